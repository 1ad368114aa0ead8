// CUDA launchers of the local propagation operator: a grid-stride loop, one thread per output
// pixel, each calling forward_element / backward_element of local_propagation_kernel.h (the
// same routines the CPU runs in its pixelwise mode, which the tests cover). The backward is
// gather-style (every thread writes only its own pixel's gradients), so there are no atomics.
#include "local_propagation/local_propagation.h"

#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

#include "local_propagation/local_propagation_kernel.h"

namespace salbox {
namespace local_propagation {
namespace {

constexpr int kThreadsPerBlock = 256;

inline int blocks_for(int64_t work) {
  const int64_t blocks = (work + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<int>(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535));
}

template <typename scalar_t, int kSize>
__global__ void forward_kernel(const scalar_t* __restrict__ coeffs,
                               const scalar_t* __restrict__ saliency, scalar_t* __restrict__ out,
                               int64_t elements, int64_t height, int64_t width, int size,
                               bool with_background) {
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       index < elements; index += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    forward_element<scalar_t, kSize>(coeffs, saliency, out, height, width, size,
                                     with_background, index);
  }
}

template <typename scalar_t, int kSize>
__global__ void backward_kernel(const scalar_t* __restrict__ grad_a,
                                const scalar_t* __restrict__ grad_b,
                                const scalar_t* __restrict__ coeffs,
                                const scalar_t* __restrict__ saliency,
                                scalar_t* __restrict__ grad_coeffs,
                                scalar_t* __restrict__ grad_saliency, int64_t elements,
                                int64_t height, int64_t width, int size) {
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       index < elements; index += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    backward_element<scalar_t, kSize>(grad_a, grad_b, coeffs, saliency, grad_coeffs,
                                      grad_saliency, height, width, size, index);
  }
}

}  // namespace

at::Tensor forward_cuda(const at::Tensor& coeffs_in, const at::Tensor& saliency_in, int size,
                        bool with_background) {
  const c10::cuda::CUDAGuard device_guard(coeffs_in.device());
  const at::Tensor coeffs = coeffs_in.contiguous();
  const at::Tensor saliency = saliency_in.contiguous();
  const int64_t batch = coeffs.size(0), height = coeffs.size(2), width = coeffs.size(3);
  at::Tensor out = at::empty({batch, with_background ? 2 : 1, height, width}, coeffs.options());
  const int64_t elements = batch * height * width;
  if (elements == 0) return out;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(coeffs.scalar_type(), "local_propagation_forward_cuda", [&] {
    dispatch_window(size, [&](auto window) {
      forward_kernel<scalar_t, decltype(window)::value>
          <<<blocks_for(elements), kThreadsPerBlock, 0, stream>>>(
              coeffs.data_ptr<scalar_t>(), saliency.data_ptr<scalar_t>(),
              out.data_ptr<scalar_t>(), elements, height, width, size, with_background);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return out;
}

std::vector<at::Tensor> backward_cuda(const at::Tensor& grad_out, const at::Tensor& coeffs_in,
                                      const at::Tensor& saliency_in, int size,
                                      bool with_background, bool need_coeffs_grad,
                                      bool need_saliency_grad) {
  const c10::cuda::CUDAGuard device_guard(coeffs_in.device());
  const at::Tensor coeffs = coeffs_in.contiguous();
  const at::Tensor saliency = saliency_in.contiguous();
  const auto grads = split_output_grad(grad_out, with_background);
  const int64_t batch = coeffs.size(0), height = coeffs.size(2), width = coeffs.size(3);
  at::Tensor grad_coeffs = need_coeffs_grad ? at::empty_like(coeffs) : at::Tensor();
  at::Tensor grad_saliency = need_saliency_grad ? at::empty_like(saliency) : at::Tensor();
  const int64_t elements = batch * height * width;
  if ((!need_coeffs_grad && !need_saliency_grad) || elements == 0) {
    return {grad_coeffs, grad_saliency};
  }
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(coeffs.scalar_type(), "local_propagation_backward_cuda", [&] {
    dispatch_window(size, [&](auto window) {
      backward_kernel<scalar_t, decltype(window)::value>
          <<<blocks_for(elements), kThreadsPerBlock, 0, stream>>>(
              grads.first.data_ptr<scalar_t>(),
              grads.second.defined() ? grads.second.data_ptr<scalar_t>() : nullptr,
              coeffs.data_ptr<scalar_t>(), saliency.data_ptr<scalar_t>(),
              need_coeffs_grad ? grad_coeffs.data_ptr<scalar_t>() : nullptr,
              need_saliency_grad ? grad_saliency.data_ptr<scalar_t>() : nullptr, elements,
              height, width, size);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return {grad_coeffs, grad_saliency};
}

}  // namespace local_propagation
}  // namespace salbox
