// Python bindings of salbox._ext: device dispatch and argument checks of every csrc op.
#include <torch/extension.h>

#include "local_propagation/local_propagation.h"

namespace salbox {
namespace {

at::Tensor local_propagation_forward(const at::Tensor& coeffs, const at::Tensor& saliency,
                                     bool with_background, bool pixelwise) {
  const int size = local_propagation::check_inputs(coeffs, saliency);
  if (coeffs.is_cuda()) {
#ifdef WITH_CUDA
    return local_propagation::forward_cuda(coeffs, saliency, size, with_background);
#else
    TORCH_CHECK(false, "local_propagation: salbox._ext was built without CUDA; rebuild it "
                       "with a CUDA build of torch (pip install --no-build-isolation -e .)");
#endif
  }
  TORCH_CHECK(coeffs.is_cpu(), "local_propagation: unsupported device ", coeffs.device());
  return local_propagation::forward_cpu(coeffs, saliency, size, with_background, pixelwise);
}

std::vector<at::Tensor> local_propagation_backward(const at::Tensor& grad_out,
                                                   const at::Tensor& coeffs,
                                                   const at::Tensor& saliency,
                                                   bool with_background, bool need_coeffs_grad,
                                                   bool need_saliency_grad, bool pixelwise) {
  const int size = local_propagation::check_inputs(coeffs, saliency);
  const int64_t out_channels = with_background ? 2 : 1;
  TORCH_CHECK(grad_out.dim() == 4 && grad_out.size(0) == coeffs.size(0) &&
                  grad_out.size(1) == out_channels && grad_out.size(2) == coeffs.size(2) &&
                  grad_out.size(3) == coeffs.size(3),
              "local_propagation: grad_out has shape ", grad_out.sizes(), ", expected (",
              coeffs.size(0), ", ", out_channels, ", ", coeffs.size(2), ", ", coeffs.size(3),
              ")");
  TORCH_CHECK(grad_out.scalar_type() == coeffs.scalar_type() &&
                  grad_out.device() == coeffs.device(),
              "local_propagation: grad_out must match coeffs in dtype and device");
  if (coeffs.is_cuda()) {
#ifdef WITH_CUDA
    return local_propagation::backward_cuda(grad_out, coeffs, saliency, size, with_background,
                                            need_coeffs_grad, need_saliency_grad);
#else
    TORCH_CHECK(false, "local_propagation: salbox._ext was built without CUDA");
#endif
  }
  TORCH_CHECK(coeffs.is_cpu(), "local_propagation: unsupported device ", coeffs.device());
  return local_propagation::backward_cpu(grad_out, coeffs, saliency, size, with_background,
                                         need_coeffs_grad, need_saliency_grad, pixelwise);
}

}  // namespace
}  // namespace salbox

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "salbox C++/CUDA operators (see salbox.ops for the Python API)";
#ifdef WITH_CUDA
  m.attr("with_cuda") = true;
#else
  m.attr("with_cuda") = false;
#endif
  // pixelwise (CPU only): run the per-pixel routines a CUDA thread runs instead of the
  // row-vectorised CPU loop, so CPU tests cover the GPU code path. CUDA ignores it.
  m.def("local_propagation_forward", &salbox::local_propagation_forward,
        "DGRL local propagation, forward: (coeffs (B,n*n,H,W), saliency (B,1,H,W), "
        "with_background) -> fg (B,1,H,W), or [bg, fg] (B,2,H,W) when with_background",
        py::arg("coeffs"), py::arg("saliency"), py::arg("with_background") = false,
        py::arg("pixelwise") = false);
  m.def("local_propagation_backward", &salbox::local_propagation_backward,
        "DGRL local propagation, backward: -> [grad_coeffs, grad_saliency] (None when not "
        "requested)",
        py::arg("grad_out"), py::arg("coeffs"), py::arg("saliency"),
        py::arg("with_background") = false, py::arg("need_coeffs_grad") = true,
        py::arg("need_saliency_grad") = true, py::arg("pixelwise") = false);
}
