// Host-side declarations and argument checks of the local propagation operator.
// The arithmetic itself is in local_propagation_kernel.h (shared by CPU and CUDA).
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace salbox {
namespace local_propagation {

/// The window size n of coeffs (n*n channels), or 0 when n*n != channels or n is even.
inline int window_size(const at::Tensor& coeffs) {
  const int64_t channels = coeffs.size(1);
  const int size = static_cast<int>(std::lround(std::sqrt(static_cast<double>(channels))));
  return (static_cast<int64_t>(size) * size == channels && size % 2 == 1) ? size : 0;
}

/// "[d0, d1, ...]", built without iostreams (see input_error).
inline std::string shape_text(at::IntArrayRef sizes) {
  std::string text = "[";
  for (size_t i = 0; i < sizes.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(sizes[i]);
  }
  return text + "]";
}

/// What is wrong with the inputs, or "" when nothing is. The extension never throws a C++
/// exception (no TORCH_CHECK) and never formats with iostreams (no c10::str): on one GPU image,
/// where g++ from another toolchain (/opt/gcc) built it, both killed the process with SIGSEGV,
/// the signature of two C++ runtimes in one process. Callers return the message instead.
inline std::string input_error(const at::Tensor& coeffs, const at::Tensor& saliency) {
  const std::string prefix = "local_propagation: ";
  if (coeffs.dim() != 4) {
    return prefix + "coeffs must be (B, n*n, H, W), got " + shape_text(coeffs.sizes());
  }
  if (saliency.dim() != 4 || saliency.size(1) != 1) {
    return prefix + "saliency must be (B, 1, H, W), got " + shape_text(saliency.sizes());
  }
  if (coeffs.size(0) != saliency.size(0) || coeffs.size(2) != saliency.size(2) ||
      coeffs.size(3) != saliency.size(3)) {
    return prefix + "coeffs " + shape_text(coeffs.sizes()) + " and saliency " +
           shape_text(saliency.sizes()) + " must share batch, height and width";
  }
  if (coeffs.scalar_type() != saliency.scalar_type()) {
    return prefix + "coeffs (" + c10::toString(coeffs.scalar_type()) + ") and saliency (" +
           c10::toString(saliency.scalar_type()) + ") must have the same dtype";
  }
  if (coeffs.scalar_type() != at::kFloat && coeffs.scalar_type() != at::kDouble) {
    return prefix + "only float32 and float64 are supported, got " +
           c10::toString(coeffs.scalar_type());
  }
  if (coeffs.device() != saliency.device()) {
    return prefix + "coeffs on " + coeffs.device().str() + " but saliency on " +
           saliency.device().str();
  }
  if (window_size(coeffs) == 0) {
    return prefix + "coeffs must have n*n channels with n odd, got " +
           std::to_string(coeffs.size(1));
  }
  return "";
}

/// Splits the output gradient into the planes a = dL/dfg - dL/dbg and b = dL/dbg (undefined
/// when the background output was not produced). Output channels are [bg, fg] in that case.
inline std::pair<at::Tensor, at::Tensor> split_output_grad(const at::Tensor& grad_out,
                                                           bool with_background) {
  if (!with_background) {
    return {grad_out.contiguous(), at::Tensor()};
  }
  const at::Tensor grad_bg = grad_out.narrow(1, 0, 1);
  const at::Tensor grad_fg = grad_out.narrow(1, 1, 1);
  return {(grad_fg - grad_bg).contiguous(), grad_bg.contiguous()};
}

/// Runs fn(std::integral_constant<int, kSize>{}): kSize = n for the common windows n = 3, 5, 7
/// (fully unrolled per-pixel loops), kSize = 0 (run-time n) otherwise.
template <typename Fn>
inline void dispatch_window(int size, const Fn& fn) {
  switch (size) {
    case 3: fn(std::integral_constant<int, 3>{}); break;
    case 5: fn(std::integral_constant<int, 5>{}); break;
    case 7: fn(std::integral_constant<int, 7>{}); break;
    default: fn(std::integral_constant<int, 0>{}); break;
  }
}

/// out: (B, 1, H, W) = fg, or (B, 2, H, W) = [bg, fg] when with_background. pixelwise runs
/// the GPU code path (one element routine per pixel) instead of the row-vectorised loop.
at::Tensor forward_cpu(const at::Tensor& coeffs, const at::Tensor& saliency, int size,
                       bool with_background, bool pixelwise);
/// Returns {grad_coeffs, grad_saliency}; an entry is undefined when it was not requested.
std::vector<at::Tensor> backward_cpu(const at::Tensor& grad_out, const at::Tensor& coeffs,
                                     const at::Tensor& saliency, int size, bool with_background,
                                     bool need_coeffs_grad, bool need_saliency_grad,
                                     bool pixelwise);

#ifdef WITH_CUDA
at::Tensor forward_cuda(const at::Tensor& coeffs, const at::Tensor& saliency, int size,
                        bool with_background);
std::vector<at::Tensor> backward_cuda(const at::Tensor& grad_out, const at::Tensor& coeffs,
                                      const at::Tensor& saliency, int size, bool with_background,
                                      bool need_coeffs_grad, bool need_saliency_grad);
#endif

}  // namespace local_propagation
}  // namespace salbox
