// Python bindings of salbox._ext: device dispatch and argument checks of every csrc op.
// Bad arguments are reported in-band (None / [] and a *_error function that says why), never
// by a C++ exception; salbox.ops raises the Python error.
#include <torch/extension.h>

#include "local_propagation/local_propagation.h"

namespace salbox {
namespace {

/// "" when the forward can run on these inputs, else why not (device support included).
std::string forward_error(const at::Tensor& coeffs, const at::Tensor& saliency) {
  const std::string error = local_propagation::input_error(coeffs, saliency);
  if (!error.empty()) {
    return error;
  }
#ifndef WITH_CUDA
  if (coeffs.is_cuda()) {
    return "local_propagation: salbox._ext was built without CUDA; rebuild it with a CUDA "
           "build of torch (pip install --no-build-isolation -e .)";
  }
#endif
  if (!coeffs.is_cuda() && !coeffs.is_cpu()) {
    return "local_propagation: unsupported device " + coeffs.device().str();
  }
  return "";
}

/// forward_error, plus the shape, dtype and device of grad_out.
std::string backward_error(const at::Tensor& grad_out, const at::Tensor& coeffs,
                           const at::Tensor& saliency, bool with_background) {
  const std::string error = forward_error(coeffs, saliency);
  if (!error.empty()) {
    return error;
  }
  const int64_t out_channels = with_background ? 2 : 1;
  if (grad_out.dim() != 4 || grad_out.size(0) != coeffs.size(0) ||
      grad_out.size(1) != out_channels || grad_out.size(2) != coeffs.size(2) ||
      grad_out.size(3) != coeffs.size(3)) {
    return "local_propagation: grad_out has shape " +
           local_propagation::shape_text(grad_out.sizes()) + ", expected " +
           local_propagation::shape_text({coeffs.size(0), out_channels, coeffs.size(2),
                                          coeffs.size(3)});
  }
  if (grad_out.scalar_type() != coeffs.scalar_type() || grad_out.device() != coeffs.device()) {
    return "local_propagation: grad_out must match coeffs in dtype and device";
  }
  return "";
}

/// fg, or [bg, fg]; an undefined tensor (None in Python) when forward_error is not "".
at::Tensor local_propagation_forward(const at::Tensor& coeffs, const at::Tensor& saliency,
                                     bool with_background, bool pixelwise) {
  if (!forward_error(coeffs, saliency).empty()) {
    return at::Tensor();
  }
  const int size = local_propagation::window_size(coeffs);
#ifdef WITH_CUDA
  if (coeffs.is_cuda()) {
    return local_propagation::forward_cuda(coeffs, saliency, size, with_background);
  }
#endif
  return local_propagation::forward_cpu(coeffs, saliency, size, with_background, pixelwise);
}

/// {grad_coeffs, grad_saliency}; empty (an empty list in Python) when backward_error is not "".
std::vector<at::Tensor> local_propagation_backward(const at::Tensor& grad_out,
                                                   const at::Tensor& coeffs,
                                                   const at::Tensor& saliency,
                                                   bool with_background, bool need_coeffs_grad,
                                                   bool need_saliency_grad, bool pixelwise) {
  if (!backward_error(grad_out, coeffs, saliency, with_background).empty()) {
    return {};
  }
  const int size = local_propagation::window_size(coeffs);
#ifdef WITH_CUDA
  if (coeffs.is_cuda()) {
    return local_propagation::backward_cuda(grad_out, coeffs, saliency, size, with_background,
                                            need_coeffs_grad, need_saliency_grad);
  }
#endif
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
        "with_background) -> fg (B,1,H,W), or [bg, fg] (B,2,H,W) when with_background; "
        "None on bad arguments (local_propagation_forward_error says why)",
        py::arg("coeffs"), py::arg("saliency"), py::arg("with_background") = false,
        py::arg("pixelwise") = false);
  m.def("local_propagation_backward", &salbox::local_propagation_backward,
        "DGRL local propagation, backward: -> [grad_coeffs, grad_saliency] (None when not "
        "requested)",
        py::arg("grad_out"), py::arg("coeffs"), py::arg("saliency"),
        py::arg("with_background") = false, py::arg("need_coeffs_grad") = true,
        py::arg("need_saliency_grad") = true, py::arg("pixelwise") = false);
  m.def("local_propagation_forward_error", &salbox::forward_error,
        "Why local_propagation_forward returned None on these arguments (\"\" if it would not)",
        py::arg("coeffs"), py::arg("saliency"));
  m.def("local_propagation_backward_error", &salbox::backward_error,
        "Why local_propagation_backward returned [] on these arguments (\"\" if it would not)",
        py::arg("grad_out"), py::arg("coeffs"), py::arg("saliency"),
        py::arg("with_background") = false);
}
