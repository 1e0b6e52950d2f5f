"""Smooth curves over frames: easing, keyframes, blend windows, Hermite arcs and low-frequency noise (numpy)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def ease(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk ease 0 -> 1 on [0, 1] (zero velocity and acceleration at both ends), clamped outside."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return u * u * u * (u * (6.0 * u - 15.0) + 10.0)


def ramp(t: np.ndarray, start: float, end: float) -> np.ndarray:
    """0 before start, eased to 1 at end."""
    if end <= start:
        return (np.asarray(t) >= start).astype(np.float64)
    return ease((np.asarray(t, dtype=np.float64) - start) / (end - start))


def window(t: np.ndarray, start: float, end: float, rise: float, fall: float | None = None) -> np.ndarray:
    """A blend weight: 0 outside [start, end], eased up over `rise` and down over `fall` seconds."""
    fall = rise if fall is None else fall
    return ramp(t, start, start + rise) * (1.0 - ramp(t, end - fall, end))


def keyframes(t: np.ndarray, times, values) -> np.ndarray:
    """Eased piecewise interpolation through (time, value) keys; values (K,) or (K, D); held outside the keys."""
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if len(times) == 1:
        return np.broadcast_to(values[0], t.shape + values.shape[1:]).copy()
    index = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[index + 1] - times[index], 1e-9)
    u = ease((t - times[index]) / span)
    u = u.reshape(u.shape + (1,) * (values.ndim - 1))
    return values[index] * (1.0 - u) + values[index + 1] * u


def hermite(t: np.ndarray, t0: float, t1: float, p0, p1, v0, v1) -> np.ndarray:
    """Cubic Hermite from (p0, velocity v0) at t0 to (p1, v1) at t1, clamped outside [t0, t1]."""
    span = max(t1 - t0, 1e-9)
    u = np.clip((np.asarray(t, dtype=np.float64) - t0) / span, 0.0, 1.0)
    h00 = 2 * u**3 - 3 * u**2 + 1
    h10 = u**3 - 2 * u**2 + u
    h01 = -2 * u**3 + 3 * u**2
    h11 = u**3 - u**2
    return h00 * p0 + h10 * span * v0 + h01 * p1 + h11 * span * v1


def early_bump(u: np.ndarray, peak: float = 0.4) -> np.ndarray:
    """A 0 -> 1 -> 0 bump on [0, 1] peaking at `peak` (a swing foot rises early and lands softly)."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    warped = np.where(u < peak, 0.5 * u / peak, 0.5 + 0.5 * (u - peak) / (1.0 - peak))
    return np.sin(np.pi * warped) ** 2


def smooth_noise(rng: np.random.Generator, n: int, fps: float, channels: int, max_hz: float = 0.6) -> np.ndarray:
    """(n, channels) smooth noise of unit-ish amplitude: a few random low-frequency sinusoids per channel."""
    t = np.arange(n) / fps
    freq = rng.uniform(0.08, max_hz, size=(3, channels))
    phase = rng.uniform(0, 2 * np.pi, size=(3, channels))
    weight = rng.uniform(0.3, 1.0, size=(3, channels))
    waves = (weight[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None, :, None] + phase[:, None])).sum(0)
    return waves / weight.sum(0)


def gaussian(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing along the frame axis (edges held)."""
    if sigma_frames <= 0:
        return np.asarray(x, dtype=np.float64)
    return gaussian_filter1d(np.asarray(x, dtype=np.float64), sigma_frames, axis=0, mode="nearest")
