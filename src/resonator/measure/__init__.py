"""Measurement primitives: what a render really contains.

Everything works on numpy arrays of shape (channels, n) (or (n,) for one channel), full
scale = 1.0; long files are read in blocks with :mod:`resonator.measure.io` and loudness is
streamed with :class:`resonator.measure.loudness.LoudnessMeter`.

Modules (imported on demand, so ``import resonator.measure`` stays cheap):

- ``io``: ``open_audio``, ``iter_blocks``, ``read_window``
- ``loudness``: ``LoudnessMeter``, ``integrated_loudness``, ``true_peak_dbtp``,
  ``loudness_range``, ``short_term_loudness``
- ``modulation``: ``envelope``, ``modulation_spectrum``, ``band_shares``, ``am_rate_depth``,
  ``gated_depth``, ``share_in_band``, ``folded_amplitude``, ``coherent_gate_depth``
- ``frequency``: ``peak_frequency``, ``dominant_tones``
- ``tones``: ``fit_tones``, ``planned_chirp``, ``tone_prominence``, ``subtract_tones``
- ``binaural``: ``measure_binaural``, ``binaural_track``
- ``breath``: ``breath_rate``
- ``dynamics``: ``ClickDetector``, ``ClickStream``, ``click_score``, ``find_clicks``,
  ``loudness_trend``, ``binned_spearman``
- ``spectrum``: ``band_energy_db``, ``spectral_centroid_track``,
  ``noise_slope_db_per_decade``, ``lr_correlation``, ``masked_lr_correlation``,
  ``band_filter``, ``power_spectrum``, ``SpectrumStream``
- ``splatter``: ``splatter_band``, ``spectrum_splatter_db``, ``measure_splatter``,
  ``gated_tone_lines``, ``burst_train_lines``, ``line_splatter_db``
- ``music``: ``shift_hz``, ``modulation_peak_offsets``, ``music_tempo``, ``join_click_ratio``

Bad arguments raise :class:`MeasureError` (a :class:`resonator.errors.ResonatorError`);
unreadable files raise :class:`resonator.errors.AudioFileError`.
"""
from ._common import MeasureError

__all__ = ["MeasureError"]
