// Per-pixel arithmetic of salbox's local propagation operator (DGRL's BRN, CVPR 2018).
//
// This header is the single place where the operator's arithmetic lives. The OpenMP CPU loop
// (local_propagation_cpu.cpp) and the CUDA kernels (local_propagation_cuda.cu) both call these
// routines, so the CPU tests exercise the exact code a GPU build runs.
//
// Layout (all tensors contiguous NCHW, one image at a time):
//   coeffs   : n*n planes of H*W, neighbour d = ky*n + kx (row-major, same order as F.unfold);
//              neighbour d of pixel (y, x) is (y + ky - n/2, x + kx - n/2).
//   saliency : one plane of H*W; zero outside the image (zero padding).
//
// Forward at pixel i:      fg_i  = sum_d v_i^d * s_{i+d}         (s = 0 outside the image)
//                          sum_i = sum_d v_i^d
//                          bg_i  = sum_d v_i^d * (1 - s_{i+d}) = sum_i - fg_i
// Backward, with a_i = dL/dfg_i - dL/dbg_i and b_i = dL/dbg_i (b = 0 when bg is not used):
//   dL/dv_i^d = a_i * s_{i+d} + b_i                       (one pixel writes its own n*n grads)
//   dL/ds_j   = sum_d a_{j-d} * v_{j-d}^d                 (gather over the pixels that used j)
// Both backward routines only write the pixel they own: no atomics are needed anywhere.
//
// Template parameters: kChecked = false skips the bounds tests (the caller guarantees that the
// whole n x n window lies inside the image); kSize > 0 fixes n at compile time (fully unrolled
// loops), kSize == 0 reads n at run time.
#pragma once

#include <cstdint>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define SALBOX_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define SALBOX_HOST_DEVICE inline
#endif

// Full unroll of the n x n window loops when n is a compile-time constant. On the host this is
// what lets the compiler vectorise the CPU row loop across pixels (GCC does not vectorise an
// outer loop around loops it has not unrolled).
#if defined(__CUDACC__) || defined(__HIPCC__) || defined(__clang__)
#define SALBOX_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define SALBOX_UNROLL _Pragma("GCC unroll 16")
#else
#define SALBOX_UNROLL
#endif

namespace salbox {
namespace local_propagation {

/// Window size: the compile-time one when given, else the run-time one.
template <int kSize>
SALBOX_HOST_DEVICE int window_size(int runtime_size) {
  return kSize > 0 ? kSize : runtime_size;
}

SALBOX_HOST_DEVICE bool inside(int64_t pos, int64_t limit) { return pos >= 0 && pos < limit; }

// ---------------------------------------------------------------------------------------------
// The arithmetic, one window row ky (n neighbours) of one pixel at a time. A GPU thread loops
// over the n window rows of its pixel (the *_pixel routines below); the CPU loop calls the
// same routine for one window row across a whole image row, so that it streams n coefficient
// planes at a time instead of n*n (n*n streams whose planes are a multiple of 4 KiB apart
// thrash the L1 cache sets, e.g. at 480 x 480).
// ---------------------------------------------------------------------------------------------

/// Forward, window row ky of pixel (y, x): fg += sum_kx v^d s_{i+d}; total += sum_kx v^d when
/// kWithTotal (total is only needed for the background form bg = total - fg).
template <typename scalar_t, bool kChecked, int kSize, bool kWithTotal>
SALBOX_HOST_DEVICE void forward_window_row(const scalar_t* __restrict__ coeffs,
                                           const scalar_t* __restrict__ saliency,
                                           int64_t height, int64_t width, int runtime_size,
                                           int ky, int64_t y, int64_t x, scalar_t& fg,
                                           scalar_t& total) {
  const int n = window_size<kSize>(runtime_size);
  const int radius = n / 2;
  const int64_t plane = height * width;
  const int64_t pixel = y * width + x;
  const int64_t yy = y + ky - radius;
  if (kChecked && !inside(yy, height)) {
    if (kWithTotal) {
SALBOX_UNROLL
      for (int kx = 0; kx < n; ++kx) total += coeffs[(ky * n + kx) * plane + pixel];
    }
    return;
  }
SALBOX_UNROLL
  for (int kx = 0; kx < n; ++kx) {
    const int64_t xx = x + kx - radius;
    const scalar_t v = coeffs[(ky * n + kx) * plane + pixel];
    if (kWithTotal) total += v;
    if (!kChecked || inside(xx, width)) {
      fg += v * saliency[yy * width + xx];
    }
  }
}

/// Gradient w.r.t. the coefficients of window row ky of pixel (y, x):
/// grad_coeffs^d = a * s_{i+d} + b (s = 0 outside the image).
template <typename scalar_t, bool kChecked, int kSize>
SALBOX_HOST_DEVICE void coeffs_grad_window_row(const scalar_t* __restrict__ saliency,
                                               scalar_t a, scalar_t b, int64_t height,
                                               int64_t width, int runtime_size, int ky,
                                               int64_t y, int64_t x,
                                               scalar_t* __restrict__ grad_coeffs) {
  const int n = window_size<kSize>(runtime_size);
  const int radius = n / 2;
  const int64_t plane = height * width;
  const int64_t pixel = y * width + x;
  const int64_t yy = y + ky - radius;
  const bool row_inside = !kChecked || inside(yy, height);
SALBOX_UNROLL
  for (int kx = 0; kx < n; ++kx) {
    const int64_t xx = x + kx - radius;
    scalar_t s = scalar_t(0);
    if (!kChecked || (row_inside && inside(xx, width))) {
      s = saliency[yy * width + xx];
    }
    grad_coeffs[(ky * n + kx) * plane + pixel] = a * s + b;
  }
}

/// Gradient w.r.t. the saliency at pixel j = (y, x), window row ky: grad += a_i * v_i^d over
/// the pixels i = j - d that read j as their neighbour d. `a` is one plane of H*W.
template <typename scalar_t, bool kChecked, int kSize>
SALBOX_HOST_DEVICE void saliency_grad_window_row(const scalar_t* __restrict__ a,
                                                 const scalar_t* __restrict__ coeffs,
                                                 int64_t height, int64_t width, int runtime_size,
                                                 int ky, int64_t y, int64_t x, scalar_t& grad) {
  const int n = window_size<kSize>(runtime_size);
  const int radius = n / 2;
  const int64_t plane = height * width;
  const int64_t iy = y - (ky - radius);
  if (kChecked && !inside(iy, height)) return;
SALBOX_UNROLL
  for (int kx = 0; kx < n; ++kx) {
    const int64_t ix = x - (kx - radius);
    if (!kChecked || inside(ix, width)) {
      const int64_t source = iy * width + ix;
      grad += a[source] * coeffs[(ky * n + kx) * plane + source];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Whole-window routines (one pixel, all n window rows), as a GPU thread runs them.
// ---------------------------------------------------------------------------------------------

/// Forward sums of one pixel: fg = sum_d v^d s_{i+d} and total = sum_d v^d (bg = total - fg).
template <typename scalar_t>
struct ForwardSums {
  scalar_t fg;
  scalar_t total;
  SALBOX_HOST_DEVICE scalar_t background() const { return total - fg; }
};

template <typename scalar_t, bool kChecked, int kSize, bool kWithTotal>
SALBOX_HOST_DEVICE ForwardSums<scalar_t> forward_pixel(const scalar_t* __restrict__ coeffs,
                                                       const scalar_t* __restrict__ saliency,
                                                       int64_t height, int64_t width,
                                                       int runtime_size, int64_t y, int64_t x) {
  ForwardSums<scalar_t> sums{scalar_t(0), scalar_t(0)};
  const int n = window_size<kSize>(runtime_size);
SALBOX_UNROLL
  for (int ky = 0; ky < n; ++ky) {
    forward_window_row<scalar_t, kChecked, kSize, kWithTotal>(
        coeffs, saliency, height, width, runtime_size, ky, y, x, sums.fg, sums.total);
  }
  return sums;
}

template <typename scalar_t, bool kChecked, int kSize>
SALBOX_HOST_DEVICE void coeffs_grad_pixel(const scalar_t* __restrict__ saliency, scalar_t a,
                                          scalar_t b, int64_t height, int64_t width,
                                          int runtime_size, int64_t y, int64_t x,
                                          scalar_t* __restrict__ grad_coeffs) {
  const int n = window_size<kSize>(runtime_size);
SALBOX_UNROLL
  for (int ky = 0; ky < n; ++ky) {
    coeffs_grad_window_row<scalar_t, kChecked, kSize>(saliency, a, b, height, width,
                                                      runtime_size, ky, y, x, grad_coeffs);
  }
}

template <typename scalar_t, bool kChecked, int kSize>
SALBOX_HOST_DEVICE scalar_t saliency_grad_pixel(const scalar_t* __restrict__ a,
                                                const scalar_t* __restrict__ coeffs,
                                                int64_t height, int64_t width, int runtime_size,
                                                int64_t y, int64_t x) {
  scalar_t grad = scalar_t(0);
  const int n = window_size<kSize>(runtime_size);
SALBOX_UNROLL
  for (int ky = 0; ky < n; ++ky) {
    saliency_grad_window_row<scalar_t, kChecked, kSize>(a, coeffs, height, width, runtime_size,
                                                        ky, y, x, grad);
  }
  return grad;
}

// ---------------------------------------------------------------------------------------------
// One flat element index = b * H * W + y * W + x, as one CUDA thread computes it. The CPU runs
// these too in its "pixelwise" mode (tests only), so the CPU tests cover the GPU code path
// except the launch itself.
// ---------------------------------------------------------------------------------------------

/// True when the whole n x n window of (y, x) lies inside the image (no bounds tests needed).
SALBOX_HOST_DEVICE bool window_inside(int64_t y, int64_t x, int64_t height, int64_t width,
                                      int radius) {
  return y >= radius && y < height - radius && x >= radius && x < width - radius;
}

/// Forward of element `index`: writes fg (and bg when with_background) into `out`, which is
/// (B, 1, H, W), or (B, 2, H, W) = [bg, fg] when with_background.
template <typename scalar_t, int kSize>
SALBOX_HOST_DEVICE void forward_element(const scalar_t* __restrict__ coeffs,
                                        const scalar_t* __restrict__ saliency,
                                        scalar_t* __restrict__ out, int64_t height, int64_t width,
                                        int runtime_size, bool with_background, int64_t index) {
  const int n = window_size<kSize>(runtime_size);
  const int64_t plane = height * width;
  const int64_t b = index / plane;
  const int64_t pixel = index % plane;
  const int64_t y = pixel / width;
  const int64_t x = pixel % width;
  const int64_t out_channels = with_background ? 2 : 1;
  const scalar_t* image_coeffs = coeffs + b * n * n * plane;
  const scalar_t* image_saliency = saliency + b * plane;
  // Totals cost one add per neighbour; always computing them keeps one code path per n.
  const ForwardSums<scalar_t> sums =
      window_inside(y, x, height, width, n / 2)
          ? forward_pixel<scalar_t, false, kSize, true>(image_coeffs, image_saliency, height,
                                                        width, n, y, x)
          : forward_pixel<scalar_t, true, kSize, true>(image_coeffs, image_saliency, height,
                                                       width, n, y, x);
  out[(b * out_channels + out_channels - 1) * plane + pixel] = sums.fg;
  if (with_background) {
    out[b * out_channels * plane + pixel] = sums.background();
  }
}

/// Backward of element `index`: the n*n coefficient gradients of that pixel (when grad_coeffs
/// is not null) and the saliency gradient of that pixel (when grad_saliency is not null).
/// grad_a = dL/dfg - dL/dbg and grad_b = dL/dbg (null without the background form), (B, H, W).
template <typename scalar_t, int kSize>
SALBOX_HOST_DEVICE void backward_element(const scalar_t* __restrict__ grad_a,
                                         const scalar_t* __restrict__ grad_b,
                                         const scalar_t* __restrict__ coeffs,
                                         const scalar_t* __restrict__ saliency,
                                         scalar_t* __restrict__ grad_coeffs,
                                         scalar_t* __restrict__ grad_saliency, int64_t height,
                                         int64_t width, int runtime_size, int64_t index) {
  const int n = window_size<kSize>(runtime_size);
  const int64_t plane = height * width;
  const int64_t b = index / plane;
  const int64_t pixel = index % plane;
  const int64_t y = pixel / width;
  const int64_t x = pixel % width;
  const bool checked = !window_inside(y, x, height, width, n / 2);
  const scalar_t* image_a = grad_a + b * plane;
  if (grad_coeffs != nullptr) {
    const scalar_t* image_saliency = saliency + b * plane;
    const scalar_t b_value = grad_b == nullptr ? scalar_t(0) : grad_b[index];
    scalar_t* image_grad = grad_coeffs + b * n * n * plane;
    if (checked) {
      coeffs_grad_pixel<scalar_t, true, kSize>(image_saliency, image_a[pixel], b_value, height,
                                               width, n, y, x, image_grad);
    } else {
      coeffs_grad_pixel<scalar_t, false, kSize>(image_saliency, image_a[pixel], b_value, height,
                                                width, n, y, x, image_grad);
    }
  }
  if (grad_saliency != nullptr) {
    const scalar_t* image_coeffs = coeffs + b * n * n * plane;
    grad_saliency[index] =
        checked ? saliency_grad_pixel<scalar_t, true, kSize>(image_a, image_coeffs, height,
                                                             width, n, y, x)
                : saliency_grad_pixel<scalar_t, false, kSize>(image_a, image_coeffs, height,
                                                              width, n, y, x);
  }
}

}  // namespace local_propagation
}  // namespace salbox
