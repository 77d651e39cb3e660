"""Music as the energizer: playlists streamed from disk, analysis-driven selection, tempo that
cools, binaural music and beat-locked modulation.

Modules (imported on demand):

- ``tracks``: :class:`TrackReader` (paged decode + resample, random access), ``track_info``
- ``playlist``: :func:`layout` of runs and crossfaded slots, :class:`PlaylistSource`
- ``stretch``: :class:`TimeMap` (tempo factor, session <-> music time), :class:`StretchedSource`
- ``shift``: :class:`ShiftedSource` (single-sideband shift of the left ear)
- ``beats``: :class:`BeatGrid` (beats in session time, locked phase curves)
- ``library``: :class:`AnalysisCache`, ``select_tracks``, ``order_tracks``, ``folder_tracks``
- ``plan``: :func:`plan_music` -> :class:`MusicPlan` (what a music layer plays)
- ``synth``: :func:`groove`, drum-and-bass loops at known tempi (the bundled music)
"""
