// CPU launcher of the local propagation operator: an OpenMP loop over image rows that calls the
// shared per-pixel routines of local_propagation_kernel.h, one window row ky at a time across
// the image row (a SIMD loop over pixels). Border pixels use the bounds-checked routine,
// interior pixels the unchecked one; the window size is a compile-time constant for n = 3, 5, 7
// (DGRL uses 5) and a run-time value otherwise.
#include "local_propagation/local_propagation.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <type_traits>

#include "local_propagation/local_propagation_kernel.h"

namespace salbox {
namespace local_propagation {
namespace {

/// Calls visit(checked_tag, x) for every pixel of row y, with std::false_type where the whole
/// n x n window (and its mirror) lies inside the image and std::true_type elsewhere. The
/// interior run is a SIMD loop: consecutive x read consecutive addresses of every plane.
template <typename Visit>
inline void for_each_pixel_in_row(int64_t y, int64_t height, int64_t width, int radius,
                                  const Visit& visit) {
  const bool row_interior = y >= radius && y < height - radius;
  const int64_t interior_begin = row_interior ? std::min<int64_t>(radius, width) : width;
  const int64_t interior_end =
      row_interior ? std::max<int64_t>(interior_begin, width - radius) : width;
  for (int64_t x = 0; x < interior_begin; ++x) visit(std::true_type{}, x);
#ifdef _OPENMP
#pragma omp simd
#endif
  for (int64_t x = interior_begin; x < interior_end; ++x) visit(std::false_type{}, x);
  for (int64_t x = interior_end; x < width; ++x) visit(std::true_type{}, x);
}

/// Below this many multiply-adds a call runs on one thread (like torch's own grain size): a
/// parallel region costs more than it saves there, and much more on a loaded machine.
constexpr int64_t kMinParallelWork = 1 << 16;

/// Runs body(row) for every row index in [0, rows) on torch's intra-op thread count.
template <typename Body>
inline void parallel_rows(int64_t rows, int64_t work_per_row, const Body& body) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(at::get_num_threads()) \
    if (rows * work_per_row >= kMinParallelWork)
#endif
  for (int64_t row = 0; row < rows; ++row) {
    body(row);
  }
}

template <typename scalar_t, int kSize, bool kWithBackground>
void forward_loop(const scalar_t* coeffs, const scalar_t* saliency, scalar_t* out, int64_t batch,
                  int64_t height, int64_t width, int size) {
  const int64_t plane = height * width;
  const int64_t out_channels = kWithBackground ? 2 : 1;
  const int radius = size / 2;
  parallel_rows(batch * height, width * size * size, [&](int64_t row) {
    const int64_t b = row / height;
    const int64_t y = row % height;
    const scalar_t* __restrict__ image_coeffs = coeffs + b * size * size * plane;
    const scalar_t* __restrict__ image_saliency = saliency + b * plane;
    scalar_t* __restrict__ fg = out + (b * out_channels + out_channels - 1) * plane + y * width;
    // With the background form, the bg row first accumulates total = sum_d v^d.
    scalar_t* __restrict__ total = out + b * out_channels * plane + y * width;
    scalar_t unused_total = scalar_t(0);
    std::fill(fg, fg + width, scalar_t(0));
    if (kWithBackground) std::fill(total, total + width, scalar_t(0));
    for (int ky = 0; ky < size; ++ky) {
      for_each_pixel_in_row(y, height, width, radius, [&](auto checked, int64_t x) {
        forward_window_row<scalar_t, decltype(checked)::value, kSize, kWithBackground>(
            image_coeffs, image_saliency, height, width, size, ky, y, x, fg[x],
            kWithBackground ? total[x] : unused_total);
      });
    }
    if (kWithBackground) {
#ifdef _OPENMP
#pragma omp simd
#endif
      for (int64_t x = 0; x < width; ++x) {
        total[x] = ForwardSums<scalar_t>{fg[x], total[x]}.background();
      }
    }
  });
}

/// Backward over image rows: for row y, the coefficient gradients of its pixels (when
/// grad_coeffs is not null) and the saliency gradients of its pixels (when grad_saliency is
/// not null), both one window row ky at a time. One pass keeps the rows of a, s and the
/// coefficients that both need in cache.
template <typename scalar_t, int kSize>
void backward_loop(const scalar_t* grad_a, const scalar_t* grad_b, const scalar_t* coeffs,
                   const scalar_t* saliency, scalar_t* grad_coeffs, scalar_t* grad_saliency,
                   int64_t batch, int64_t height, int64_t width, int size) {
  const int64_t plane = height * width;
  const int radius = size / 2;
  parallel_rows(batch * height, width * size * size, [&](int64_t row) {
    const int64_t b = row / height;
    const int64_t y = row % height;
    const scalar_t* __restrict__ image_a = grad_a + b * plane;
    const scalar_t* __restrict__ row_a = image_a + y * width;
    const scalar_t* __restrict__ row_b =
        grad_b == nullptr ? nullptr : grad_b + b * plane + y * width;
    const scalar_t* __restrict__ image_coeffs = coeffs + b * size * size * plane;
    const scalar_t* __restrict__ image_saliency = saliency + b * plane;
    scalar_t* __restrict__ image_grad =
        grad_coeffs == nullptr ? nullptr : grad_coeffs + b * size * size * plane;
    scalar_t* __restrict__ row_grad_saliency =
        grad_saliency == nullptr ? nullptr : grad_saliency + b * plane + y * width;
    if (row_grad_saliency != nullptr) {
      std::fill(row_grad_saliency, row_grad_saliency + width, scalar_t(0));
    }
    for (int ky = 0; ky < size; ++ky) {
      if (grad_coeffs != nullptr && row_b == nullptr) {
        for_each_pixel_in_row(y, height, width, radius, [&](auto checked, int64_t x) {
          coeffs_grad_window_row<scalar_t, decltype(checked)::value, kSize>(
              image_saliency, row_a[x], scalar_t(0), height, width, size, ky, y, x, image_grad);
        });
      } else if (grad_coeffs != nullptr) {
        for_each_pixel_in_row(y, height, width, radius, [&](auto checked, int64_t x) {
          coeffs_grad_window_row<scalar_t, decltype(checked)::value, kSize>(
              image_saliency, row_a[x], row_b[x], height, width, size, ky, y, x, image_grad);
        });
      }
      if (grad_saliency != nullptr) {
        for_each_pixel_in_row(y, height, width, radius, [&](auto checked, int64_t x) {
          saliency_grad_window_row<scalar_t, decltype(checked)::value, kSize>(
              image_a, image_coeffs, height, width, size, ky, y, x, row_grad_saliency[x]);
        });
      }
    }
  });
}

/// The GPU code path on the CPU: forward_element / backward_element for every flat index
/// (what one CUDA thread runs), parallel over pixels. Used by the tests, not for speed.
template <typename scalar_t, int kSize>
void forward_pixelwise(const scalar_t* coeffs, const scalar_t* saliency, scalar_t* out,
                       int64_t elements, int64_t height, int64_t width, int size,
                       bool with_background) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(at::get_num_threads()) \
    if (elements * size * size >= kMinParallelWork)
#endif
  for (int64_t index = 0; index < elements; ++index) {
    forward_element<scalar_t, kSize>(coeffs, saliency, out, height, width, size,
                                     with_background, index);
  }
}

template <typename scalar_t, int kSize>
void backward_pixelwise(const scalar_t* grad_a, const scalar_t* grad_b, const scalar_t* coeffs,
                        const scalar_t* saliency, scalar_t* grad_coeffs, scalar_t* grad_saliency,
                        int64_t elements, int64_t height, int64_t width, int size) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(at::get_num_threads()) \
    if (elements * size * size >= kMinParallelWork)
#endif
  for (int64_t index = 0; index < elements; ++index) {
    backward_element<scalar_t, kSize>(grad_a, grad_b, coeffs, saliency, grad_coeffs,
                                      grad_saliency, height, width, size, index);
  }
}

}  // namespace

at::Tensor forward_cpu(const at::Tensor& coeffs_in, const at::Tensor& saliency_in, int size,
                       bool with_background, bool pixelwise) {
  const at::Tensor coeffs = coeffs_in.contiguous();
  const at::Tensor saliency = saliency_in.contiguous();
  const int64_t batch = coeffs.size(0), height = coeffs.size(2), width = coeffs.size(3);
  at::Tensor out = at::empty({batch, with_background ? 2 : 1, height, width}, coeffs.options());
  AT_DISPATCH_FLOATING_TYPES(coeffs.scalar_type(), "local_propagation_forward_cpu", [&] {
    dispatch_window(size, [&](auto window) {
      constexpr int kSize = decltype(window)::value;
      if (pixelwise) {
        forward_pixelwise<scalar_t, kSize>(coeffs.data_ptr<scalar_t>(),
                                           saliency.data_ptr<scalar_t>(),
                                           out.data_ptr<scalar_t>(), batch * height * width,
                                           height, width, size, with_background);
      } else if (with_background) {
        forward_loop<scalar_t, kSize, true>(coeffs.data_ptr<scalar_t>(),
                                            saliency.data_ptr<scalar_t>(),
                                            out.data_ptr<scalar_t>(), batch, height, width, size);
      } else {
        forward_loop<scalar_t, kSize, false>(coeffs.data_ptr<scalar_t>(),
                                             saliency.data_ptr<scalar_t>(),
                                             out.data_ptr<scalar_t>(), batch, height, width, size);
      }
    });
  });
  return out;
}

std::vector<at::Tensor> backward_cpu(const at::Tensor& grad_out, const at::Tensor& coeffs_in,
                                     const at::Tensor& saliency_in, int size, bool with_background,
                                     bool need_coeffs_grad, bool need_saliency_grad,
                                     bool pixelwise) {
  const at::Tensor coeffs = coeffs_in.contiguous();
  const at::Tensor saliency = saliency_in.contiguous();
  const auto grads = split_output_grad(grad_out, with_background);
  const int64_t batch = coeffs.size(0), height = coeffs.size(2), width = coeffs.size(3);
  at::Tensor grad_coeffs = need_coeffs_grad ? at::empty_like(coeffs) : at::Tensor();
  at::Tensor grad_saliency = need_saliency_grad ? at::empty_like(saliency) : at::Tensor();
  if (!need_coeffs_grad && !need_saliency_grad) {
    return {grad_coeffs, grad_saliency};
  }
  AT_DISPATCH_FLOATING_TYPES(coeffs.scalar_type(), "local_propagation_backward_cpu", [&] {
    dispatch_window(size, [&](auto window) {
      constexpr int kSize = decltype(window)::value;
      const scalar_t* grad_a = grads.first.data_ptr<scalar_t>();
      const scalar_t* grad_b =
          grads.second.defined() ? grads.second.data_ptr<scalar_t>() : nullptr;
      if (pixelwise) {
        backward_pixelwise<scalar_t, kSize>(
            grad_a, grad_b, coeffs.data_ptr<scalar_t>(), saliency.data_ptr<scalar_t>(),
            need_coeffs_grad ? grad_coeffs.data_ptr<scalar_t>() : nullptr,
            need_saliency_grad ? grad_saliency.data_ptr<scalar_t>() : nullptr,
            batch * height * width, height, width, size);
        return;
      }
      backward_loop<scalar_t, kSize>(
          grad_a, grad_b, coeffs.data_ptr<scalar_t>(), saliency.data_ptr<scalar_t>(),
          need_coeffs_grad ? grad_coeffs.data_ptr<scalar_t>() : nullptr,
          need_saliency_grad ? grad_saliency.data_ptr<scalar_t>() : nullptr, batch, height,
          width, size);
    });
  });
  return {grad_coeffs, grad_saliency};
}

}  // namespace local_propagation
}  // namespace salbox
