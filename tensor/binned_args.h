// Options of the binned mixture likelihood's fused kernel (see tensor/loss_math.h).
#pragma once

namespace stan::math {

struct BinnedArgs {
  double half_width = 1.0 / 400;  // w: the bin of y is [y - w, y + w]
  double sigma_floor = 0;         // sigma = floor + exp(log_sigma)
  bool censor = false;            // censored edges (see nn::BinnedLossOptions)
  double low_edge = 0, high_edge = 1;
};

// What a mixture draw does with values outside [0, 1] (sample_mixture_rows).
enum class MixtureRange : int { none, clip, redraw };

}  // namespace stan::math
