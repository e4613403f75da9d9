"""Input encodings: Poisson rate coding and direct current.

The Diehl & Cook network draws its Poisson spikes inside Brian2 from the rates
defined here (the input group draws one random number per spike, see
``bioplastic.network.POISSON_INPUT_STATE``; the process is that of a per-step
``rand() < rate*dt``), so that no spike trains have to be stored or transferred;
:func:`poisson_spike_train` is the same process in numpy, for analysis and tests.
"""

import numpy as np

__all__ = ["intensities", "normalise_intensity_sum", "poisson_rates", "boosted_max_rate",
           "poisson_spike_train", "direct_current"]


def intensities(images):
    """Pixel values (uint8, any shape n x ...) as floats in [0, 1], flattened per sample."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 pixel values, got dtype {images.dtype}")
    return images.reshape(len(images), -1) / 255.0


def normalise_intensity_sum(intensities, total):
    """Rescale each row of intensities to sum to ``total`` (0: leave them unchanged).

    Hao et al. (2020) preprocess Fashion-MNIST this way "because of high variance
    among examples": a coat lights three to five times as many pixels as a sandal,
    and so drives the network with as many more input spikes. Blank rows (padding)
    stay blank. Scaled pixels may exceed 1, i.e. fire above the maximum input rate.

    Parameters
    ----------
    intensities : array, shape (n, pixels)
        Non-negative pixel intensities.
    total : float
        Target sum of every non-blank row, or 0 for no rescaling.
    """
    intensities = np.asarray(intensities, dtype=float)
    if total < 0:
        raise ValueError(f"intensity sum must be >= 0 (0: no rescaling), got {total}")
    if total == 0:
        return intensities
    sums = intensities.sum(axis=1, keepdims=True)
    scale = np.divide(total, sums, out=np.zeros_like(sums), where=sums > 0)
    return intensities * scale


def boosted_max_rate(max_rate, rate_boost, retries):
    """Maximum input rate after ``retries`` silent presentations.

    Diehl & Cook show an image again, with the maximum rate raised by ``rate_boost``
    (32 Hz), whenever the excitatory layer fired fewer than 5 spikes.
    """
    return max_rate + retries * rate_boost


def poisson_rates(images, max_rate, rate_boost=0.0, retries=0):
    """Rate of each input neuron: pixel/255 x (max_rate + retries x rate_boost)."""
    return intensities(images) * boosted_max_rate(max_rate, rate_boost, retries)


def poisson_spike_train(rates, duration, dt, rng):
    """Boolean spike raster (steps x neurons) of independent Bernoulli-per-step trains.

    Parameters
    ----------
    rates : array of float
        Rates in Hz, one per neuron.
    duration, dt : float
        In seconds.
    rng : numpy.random.Generator
    """
    steps = int(round(duration / dt))
    probability = np.clip(np.asarray(rates, dtype=float) * dt, 0.0, 1.0)
    return rng.random((steps, probability.size)) < probability


def direct_current(images, scale=1.0):
    """Direct (current) encoding: pixel intensity in [0, 1] x ``scale``, no spikes."""
    return intensities(images) * scale
