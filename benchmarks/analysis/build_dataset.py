"""Build the beat-tracking ground-truth set from the music21 corpus, offline.

Each piece is parsed from the music21 corpus (pip package ``music21``), its notes are written to a
MIDI file with :mod:`pretty_midi` at one constant tempo chosen per piece, and the MIDI is rendered
with FluidSynth and a General MIDI soundfont (Debian ``fluidsynth`` and ``fluid-soundfont-gm``).
The ground-truth beats come from the score itself: every measure's beats (music21's
``TimeSignature.beatDuration``: quarter in 2/4-3/4-4/4, half in 2/2, dotted quarter in 6/8 and 3/8)
converted to seconds with the same constant tempo.

Traps handled (see shared/NOTES.md):

- pickups: the first measure, when shorter than a full bar, is aligned to its closing barline, so
  its beats are counted backwards from the barline (``pretty_midi.get_beats()`` is not used);
- stuck notes: notes are written by pretty_midi with explicit note-offs, every track gets
  all-notes-off and all-sound-off (CC123, CC120) at its end, and FluidSynth runs under ``timeout``;
- repeats: not expanded (the score is played as written once), so ``expandRepeats()`` cannot fail.

Only the first ``MAX_SECONDS`` of each piece are rendered. Notes get a mild metrical accent
(velocity 100 on downbeats, 88 on other beats, 74 off the beat), as a player would give; there is
no timing jitter. Output is cached under ``benchmarks/out/analysis/`` (git-ignored):
``<id>.wav`` (22.05 kHz stereo), ``<id>.beats.txt`` (one time in seconds a line) and
``manifest.json``.

Batch 4 (``PIECES_4``, added 2026-11-22, third session) is the fresh test of the
metrical-level choice: chosen and rendered before the level choice was scored on it, and never run through a
beat tracker or tempo estimator before the final scoring (``score_beats.py`` skips it unless
``--fresh``). Its beat tempi follow one rule, applied mechanically, first match wins (the beat unit
is music21's ``TimeSignature.beatDuration`` of the opening metre):

a. a printed MetronomeMark at the start (MusicXML ``<metronome>``, music21 ``number``), converted
   to the beat unit. Playback-only ``<sound tempo>`` marks (``numberSounding`` only) do not count:
   in this corpus they are encoders' defaults (120, 320, ...), not the composer's;
b. the ABC ``Q:`` field, converted the same way (``Q:1/2=66`` in 2/4 is quarter 132);
c. the tempo word at the start: Grave 44, Largo 48, Lento 52, Adagio 56, Larghetto 63, Andante 76,
   Andantino 84, Moderato 100, Allegretto 112, Allegro 132, Vivace 150, Presto 168,
   Prestissimo 184, qualifiers dropped ("Allegro ma non tanto", "Poco Adagio", "Andante con
   moto" = the plain word). In 6/8, 9/8, 12/8 and 3/8 the word's number is taken as the
   dotted-quarter (beat) tempo;
d. folk tunes with neither: a genre table per score beat: reel 104 (half in 2/2, quarter in 2/4
   with a sixteenth surface, as batches 1-2 did), jig (6/8) and slip jig (9/8) dotted quarter 116,
   hornpipe 84 (quarter in 2/4 or 4/4, half in 2/2, as batches 1-2 did), strathspey quarter 128,
   waltz quarter 150, polka quarter 120, march quarter 112 (2/4) or dotted quarter 112 (6/8);
e. vocal music with neither mark nor word (chorales, hymns, songs, renaissance polyphony): 80 per
   beat unit.

A piece whose rule gives a beat tempo outside 40-200 BPM is skipped, as is one whose metre changes
within the rendered minute, one whose beat grid jumps there (partial bars at repeat endings, played
once as written), one shorter than 30 s, or one that music21 cannot parse. A later tempo mark
inside the rendered minute is not followed (one constant tempo; audio and beats agree).

Batch 5 (``PIECES_5``, added 2026-11-22, third session) is a second fresh test built the same way
(same rule, same checks, manifest split ``fresh5``); ``score_beats.py`` skips it unless ``--fresh5``.

Batch 6 (``PIECES_6``, added 2026-11-22, fourth session) is a third fresh test built the same way
(same rule, same checks, mechanical picks from corpus files and tunes not used in batches 1-5,
manifest split ``fresh6``); ``score_beats.py`` skips it unless ``--fresh6``.

Usage::

    .venv/bin/python benchmarks/analysis/build_dataset.py [--force]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "out" / "analysis"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
MAX_SECONDS = 60.0
SR = 22050

# id, corpus path, score number inside an opus (or None), beat tempo in BPM, GM program(s) per part.
# Beat tempi are musically plausible for each piece (the score's own marking when it has one).
PIECES = [
    ("joplin_maple_leaf", "joplin/maple_leaf_rag.mxl", None, 100, [0]),
    ("reel_7th_regiment", "ryansMammoth/7thRegimentReel.abc", None, 112, [21]),
    ("reel_acacia", "ryansMammoth/AcaciaReel.abc", None, 104, [105]),
    ("hornpipe_acrobats", "ryansMammoth/AcrobatsHornpipe.abc", None, 80, [0]),
    ("mozart_k545_1", "mozart/k545/movement1_exposition.mxl", None, 132, [0]),
    ("haydn_op1no1_3", "haydn/opus1no1/movement3.mxl", None, 66, [0]),
    ("beethoven_op18no1_3", "beethoven/opus18no1/movement3.mxl", None, 168, [0]),
    ("clara_polonaise_1", "schumann_clara/polonaise_op1n1.mxl", None, 96, [0]),
    ("chopin_mazurka_6_2", "chopin/mazurka06-2.krn", None, 150, [0]),
    ("verdi_donna_mobile", "verdi/laDonnaEMobile.mxl", None, 60, [0]),
    ("berlin_alexanders_ragtime", "leadSheet/berlinAlexandersRagtime.mxl", None, 120, [56]),
    ("cpebach_h186", "cpebach/h186.mxl", None, 120, [6]),
    ("corelli_grave", "corelli/opus3no1/1grave.xml", None, 60, [6]),
    ("handel_lascia", "handel/rinaldo/Lascia_chio_pianga.mxl", None, 66, [0]),
    ("bach_bwv66_6", "bach/bwv66.6", None, 96, [0]),
    ("bach_bwv846", "bach/bwv846", None, 72, [6]),
    ("aird_touzle_jig", "airdsAirs/book1.abc", 4, 112, [21]),
    ("aird_quick_step", "airdsAirs/book1.abc", 2, 112, [24]),
    ("oneill_donnybrook_jig", "oneills1850/0001-0050.abc", 5, 116, [46]),
    ("oneill_heathy_hill", "oneills1850/0001-0050.abc", 3, 100, [25]),
    ("mozart_k155_3", "mozart/k155/movement3.mxl", None, 140, [40, 40, 41, 42]),
    ("haydn_op74no1_4", "haydn/opus74no1/movement4.mxl", None, 144, [40, 40, 41, 42]),
    ("schumann_op41no1_2", "schumann_robert/opus41no1/movement2.mxl", None, 80, [0]),
    ("foster_brown_hair", "leadSheet/fosterBrownHair.mxl", None, 80, [11]),
    ("fife_british_grenadiers", "miscFolk/americanfifeopus.abc", 3, 112, [12]),
    ("fife_finnegans_wake", "miscFolk/americanfifeopus.abc", 6, 90, [21]),
    ("beach_prayer", "beach/prayer_of_a_tired_child.musicxml", None, 80, [0]),
    ("nottingham_cuckoos_nest", "nottingham-dataset/reelsa-c.abc", 1, 140, [0]),
    ("essen_roland", "essenFolksong/altdeu10.abc", 6, 100, [12]),
]

# Added 2026-11-22 (second batch): never looked at before the tempo/beat code was last tuned.
PIECES_2 = [
    ("mozart_k80_1", "mozart/k80/movement1.mxl", None, 56, [40, 40, 41, 42]),
    ("mozart_k80_3", "mozart/k80/movement3.mxl", None, 126, [6]),
    ("mozart_k156_1", "mozart/k156/movement1.mxl", None, 84, [0]),
    ("mozart_k156_3", "mozart/k156/movement3.mxl", None, 120, [46]),
    ("mozart_k458_1", "mozart/k458/movement1.mxl", None, 108, [40, 40, 41, 42]),
    ("mozart_k458_2", "mozart/k458/movement2.mxl", None, 138, [0]),
    ("mozart_k458_4", "mozart/k458/movement4.mxl", None, 152, [0]),
    ("beethoven_op59no1_2", "beethoven/opus59no1/movement2.mxl", None, 58, [0]),
    ("beethoven_op59no2_3", "beethoven/opus59no2/movement3.mxl", None, 132, [46]),
    ("beethoven_op59no3_3", "beethoven/opus59no3/movement3.mxl", None, 116, [0]),
    ("beethoven_op59no3_4", "beethoven/opus59no3/movement4.mxl", None, 88, [40, 40, 41, 42]),
    ("haydn_op1no1_1", "haydn/opus1no1/movement1.mxl", None, 100, [0]),
    ("haydn_op1no1_5", "haydn/opus1no1/movement5.mxl", None, 168, [0]),
    ("haydn_op74no1_1", "haydn/opus74no1/movement1.mxl", None, 120, [40, 40, 41, 42]),
    ("clara_polonaise_2", "schumann_clara/polonaise_op1n2.mxl", None, 92, [0]),
    ("schubert_lindenbaum", "schubert/Lindenbaum.xml", None, 76, [71, 0, 0]),
    ("schumann_dichterliebe_2", "schumann_robert/dichterliebe_no2.xml", None, 60, [68, 0, 0]),
    ("johnson_lift_every_voice", "johnson_j_r/lift_every_voice.mxl", None, 52, [0]),
    ("liliuokalani_aloha_oe", "liliuokalani/aloha_oe.mxl", None, 84, [24, 0]),
    ("bach_bwv1_6", "bach/bwv1.6", None, 80, [19]),
    ("bach_bwv10_7", "bach/bwv10.7", None, 88, [0]),
    ("slipjig_drop_of_whiskey", "ryansMammoth/DropOfWhiskeySlipjig.abc", None, 116, [21]),
    ("hornpipe_admirals", "ryansMammoth/AdmiralsHornpipe.abc", None, 88, [0]),
    ("jig_butchers_march", "ryansMammoth/ButchersMarchJig.abc", None, 120, [71]),
    ("oneill_friars_hill", "oneills1850/0001-0050.abc", 10, 108, [40]),
    ("oneill_monks_screw", "oneills1850/0001-0050.abc", 20, 112, [73]),
    ("oneill_gordons_tune", "oneills1850/0001-0050.abc", 40, 96, [22]),
    ("essen_han1", "essenFolksong/han1.abc", 1, 100, [11]),
    ("monteverdi_3_1", "monteverdi/madrigal.3.1.mxl", None, 72, [6]),
]


# Added 2026-11-22 (third batch, "new batch"): chosen and rendered before the metre-consistency
# work was frozen and never scored until it was (tuning reads batches 1-2 development pieces only).
# Tempi from the composers' metronome marks where they exist (Beethoven), else a plain reading of
# the tempo word; fast 3/4, slow 2/4, 4/4, 6/8, 9/8, 3/8 and 2/2 are all represented.
PIECES_3 = [
    ("beethoven_op18no1_1", "beethoven/opus18no1/movement1.mxl", None, 174, [40, 40, 41, 42]),
    ("beethoven_op18no1_2", "beethoven/opus18no1/movement2.mxl", None, 44, [40, 40, 41, 42]),
    ("beethoven_op18no1_4", "beethoven/opus18no1/movement4.mxl", None, 160, [0]),
    ("beethoven_op59no1_3", "beethoven/opus59no1/movement3.mxl", None, 44, [0]),
    ("beethoven_op59no2_2", "beethoven/opus59no2/movement2.mxl", None, 60, [40, 40, 41, 42]),
    ("beethoven_op59no3_2", "beethoven/opus59no3/movement2.mxl", None, 56, [46]),
    ("beethoven_op59no2_4", "beethoven/opus59no2/movement4.mxl", None, 152, [0]),
    ("haydn_op74no1_3", "haydn/opus74no1/movement3.mxl", None, 132, [40, 40, 41, 42]),
    ("haydn_op74no1_2", "haydn/opus74no1/movement2.mxl", None, 46, [0]),
    ("haydn_op1no1_2", "haydn/opus1no1/movement2.mxl", None, 126, [6]),
    ("mozart_k155_2", "mozart/k155/movement2.mxl", None, 76, [0]),
    ("mozart_k458_3", "mozart/k458/movement3.mxl", None, 48, [40, 40, 41, 42]),
    ("mozart_k80_2", "mozart/k80/movement2.mxl", None, 132, [0]),
    ("mozart_k156_2", "mozart/k156/movement2.mxl", None, 52, [68, 40, 41, 42]),
    ("clara_polonaise_3", "schumann_clara/polonaise_op1n3.mxl", None, 96, [0]),
    ("monteverdi_4_3", "monteverdi/madrigal.4.3.mxl", None, 88, [52]),
    ("strathspey_money_musk", "ryansMammoth/MoneyMuskStrathspey.abc", None, 128, [21]),
]


# Added 2026-11-22 (third session, batch 4): the fresh test of the metrical-level choice,
# chosen by the tempo rule in the module docstring before it was scored, and never run
# through any beat tracker or tempo estimator before the final scoring (only ground truth and renders
# were checked: durations, levels, beat counts, MIDI onsets against the beat grid). No corpus file
# of batches 1-3 is reused. 9 dance/folk tunes and songs, 4 chorales, 7 movements, 4 others.
# Replaced after the ground-truth check, because the played-once score puts a half or partial bar
# (repeat endings) inside the first minute, so the beat grid jumps: Miss Gunning's Fancy reel,
# The Old Grey Goose jig, Souvenir de Venice hornpipe, Mrs. Leitch's strathspey, Aird's German Waltz,
# the East York Militia and Vulcan's marches; Beethoven op. 59/3/1 (a short bar at 24 s and onsets
# off any subdivision). Not taken: weber/concertino_clarinet (measure 1 overfull, parts out of
# step), schumann_clara/opus17/movement3 (eighth=112 is dotted quarter 37, below 40),
# beethoven/opus132 and opus133 (metre changes in the first minute), josquin/*.abc (the parts parse
# as one line), bach/bwv88.7 (27 s), the essenFolksong/lot.abc polka (8 bars), nottingham-dataset
# (its only file is listed in batch 1), Mozart K80/4, K155/1, K156/4 and Haydn op. 1/1/4 (no tempo
# mark or word, so no rule applies).
PIECES_4 = [
    # dance / folk tunes and a song
    ("reel_miss_mcdonalds", "ryansMammoth/MissMcDonaldsReel.abc", None, 104, [21]),  # d: reel, 2/4 quarter
    ("oneill_bucks_of_oranmore", "oneills1850/1176-1275.abc", 1199, 104, [73]),  # d: reel, 2/2 half
    ("aird_chorus_jig", "airdsAirs/book2.abc", 331, 120, [105]),  # b: Q:3/8=120, 6/8
    ("hornpipe_lord_moiras", "ryansMammoth/LordMoirasHornpipe.abc", None, 84, [0]),  # d: hornpipe, 2/4
    ("oneill_gurtys_frolics", "oneills1850/1136-1175.abc", 1171, 116, [71]),  # d: slip jig, 9/8
    ("strathspey_loch_na_gar", "ryansMammoth/LochNaGarStrathspey.abc", None, 128, [24]),  # d: strathspey, 4/4
    ("oneill_save_me_from_death", "oneills1850/0550-0625.abc", 557, 150, [46]),  # d: R:waltz, 3/4
    ("oneill_allistrums_march", "oneills1850/1801-1850.abc", 1802, 112, [56]),  # d: march, 6/8 dotted quarter
    ("essen_was_glaenzt", "essenFolksong/boehme10.abc", 52, 80, [22]),  # e: song, 6/8 dotted quarter
    # Bach chorales (every 40th bwvNNN.N file in sorted order; bwv88.7 too short)
    ("bach_bwv121_6", "bach/bwv121.6", None, 80, [19]),  # e: chorale
    ("bach_bwv169_7", "bach/bwv169.7", None, 80, [40, 40, 41, 42]),  # e: chorale
    ("bach_bwv244_37", "bach/bwv244.37", None, 80, [52]),  # e: chorale
    ("bach_bwv44_7", "bach/bwv44.7", None, 80, [6]),  # e: chorale
    # movements (the multi-movement files render their first movement's first minute)
    ("beethoven_op18no3_1", "beethoven/opus18no3.mxl", None, 85, [40, 40, 41, 42]),  # a: half=85, 2/2
    ("beethoven_op18no4_1", "beethoven/opus18no4.mxl", None, 132, [0]),  # c: Allegro (ma non tanto), 4/4
    ("beethoven_op18no5_1", "beethoven/opus18no5.mxl", None, 132, [40, 40, 41, 42]),  # c: Allegro, 6/8
    ("beethoven_op59no1_4", "beethoven/opus59no1/movement4.mxl", None, 132, [6]),  # c: Allegro, 2/4
    ("beethoven_op74_1", "beethoven/opus74.mxl", None, 56, [40, 40, 41, 42]),  # c: Poco Adagio, 4/4
    ("schumann_op41no1_4", "schumann_robert/opus41no1/movement4.mxl", None, 56, [0]),  # c: Adagio, 4/4
    ("clara_polonaise_4", "schumann_clara/polonaise_op1n4.mxl", None, 92, [0]),  # a: quarter=92, 3/4
    # others
    ("aird_marseillois", "airdsAirs/book4.abc", 604, 144, [12]),  # b: Q:1/2=72 in 4/4, march
    ("palestrina_kyrie_00", "palestrina/Kyrie_00.krn", None, 80, [52]),  # e: mass, 4/2 half
    ("trecento_cara_mi_donna", "trecento/PMFC_04-Cara mi donna.xml", None, 120, [68, 71, 70]),  # a: 3/4
    ("lusitano_allor_che_ignuda", "lusitano/allor_che_ignuda.mxl", None, 80, [73, 71, 42]),  # e: madrigal
]


# Added 2026-11-22 (third session, batch 5): a second fresh test, chosen, rendered and checked like
# batch 4 (same tempo rule, same ground-truth checks; never run through any beat tracker or tempo
# estimator; ``score_beats.py`` skips it unless ``--fresh5``). No corpus file of batches 1-4 is
# reused (nor a tune whose O'Neill number or music is in them). Picks are mechanical: for each folk
# genre the candidates of unused ABC files, in SHA-1 order of "path#X", first that passes the
# screen (rule-d or rule-b tempo, >= 30 s, no beat-grid jump or metre change in the first minute,
# onsets on the 2/3/4/6/8 subdivisions); chorales every 40th bwvNNN.N file from the 42nd in sorted
# order (bwv41.6 skipped: 3/4 inside the first minute); every unused classical movement that has a
# rule; for the others the first of each corpus folder in SHA-1 order. Not available: a reel (every
# unused reel is under 30 s played once, jumps at repeat endings, or is above 200 BPM by its Q:
# field; Kitty O'Neil's Champion, R:reel, is mis-barred: each written bar holds two 2/4 bars in L:1/8
# values, so it was dropped), a waltz (Aird's "new German Waltz", the only unused one, jumps at its
# repeat endings), a polka (the only one is 8 bars). Not taken: Schumann op. 41/1/1 (2/4 -> 6/8 at
# 52 s), op. 41/1/3 and Haydn op. 1/1/4 (no tempo word: "Intermezzo", "Menuetto"), opus48no2 (the
# same song as dichterliebe_no2 of batch 2), the Strathearn and Roy's Wife strathspeys (1/4 and 2/4
# bars in the first minute), luca/gloria (6/8 -> 2/4 at 41 s).
PIECES_5 = [
    # dance / folk tunes and songs
    ("oneill_morgan_rattler", "oneills1850/1031-1115.abc", 1046, 116, [73]),  # d: jig, 6/8
    ("oneill_galway_tom", "oneills1850/0732-0758_mh.abc", 745, 116, [24]),  # d: jig, 6/8
    ("oneill_mountains_of_kerry", "oneills1850/1701-1780.abc", 1745, 84, [68]),  # d: hornpipe, 4/4
    ("oneill_big_dan_omahony", "oneills1850/1556-1624.abc", 1585, 84, [105]),  # d: hornpipe, 4/4
    ("oneill_come_down_to_limerick", "oneills1850/1116-1135_ml.abc", 1121, 116, [46]),  # d: slip jig, 9/8
    ("strathspey_bonnie_lassie", "ryansMammoth/BonnieLassieStrathspey.abc", None, 128, [71]),  # d: strathspey, 4/4
    ("aird_march_3d_guards", "airdsAirs/book6.abc", 1082, 120, [12]),  # b: Q:1/2=60 in 4/4, march
    ("essen_ich_mag_dich_nicht", "essenFolksong/lux.abc", 355, 80, [52]),  # e: song, 4/4
    ("essen_fruehlingshoffnung", "essenFolksong/zuccal0.abc", 580, 80, [0]),  # e: song, 3/4
    # Bach chorales
    ("bach_bwv146_8", "bach/bwv146.8", None, 80, [19]),  # e: chorale
    ("bach_bwv19_7", "bach/bwv19.7", None, 80, [6]),  # e: chorale, 3/4
    ("bach_bwv245_37", "bach/bwv245.37", None, 80, [52]),  # e: chorale
    ("bach_bwv81_7", "bach/bwv81.7", None, 80, [0]),  # e: chorale
    # movements (every unused one in the corpus that has a rule and passes the checks)
    ("beethoven_op59no1_1", "beethoven/opus59no1/movement1.mxl", None, 132, [40, 40, 41, 42]),  # c: Allegro, 4/4
    ("beethoven_op59no2_1", "beethoven/opus59no2/movement1.mxl", None, 132, [0]),  # c: Allegro, 6/8
    ("schumann_op41no1_5", "schumann_robert/opus41no1/movement5.mxl", None, 168, [40, 40, 41, 42]),  # c: Presto, 4/4
    # others
    ("trecento_gloria_laus_honor", "trecento/PMFC_13_07-Gloria Laus Honor.xml", None, 80, [46]),  # e: mass, 3/4
    ("monteverdi_4_7", "monteverdi/madrigal.4.7.mxl", None, 80, [40, 40, 41, 42, 42]),  # e: madrigal, 4/4
    ("monteverdi_3_16", "monteverdi/madrigal.3.16.mxl", None, 80, [24]),  # e: madrigal, 4/4
    ("palestrina_benedictus_34_b", "palestrina/Benedictus_34_b.krn", None, 80, [19]),  # e: mass, 4/2 half
    ("ciconia_quod_jactatur", "ciconia/quod_jactatur.xml", None, 80, [6]),  # e: motet (one part), 2/4
]


# Added 2026-11-22 (fourth session, batch 6): a third fresh test, chosen, rendered and checked like
# batches 4-5 (same tempo rule, same ground-truth screen; never run through any beat tracker or tempo
# estimator; ``score_beats.py`` skips it unless ``--fresh6``). No corpus file of batches 1-5 is
# reused, nor a tune whose O'Neill number or music is in them (the krn/mus/musx twins of used files
# count as used). Picks are mechanical, as in batch 5: per folk genre the candidates of unused ABC
# files in SHA-1 order of "path#X" (X = the tune's X: number), the first two that pass the screen
# (rule-b or rule-d tempo within 40-200, >= 30 s, no beat-grid jump and no metre change in the first
# minute, first beat within a bar, onsets on the 2/3/4/6/8 subdivisions), one tune per corpus file;
# chorales every 40th bwvNNN.N file in sorted order from the 22nd (219 files: 22nd bwv121.6 is
# batch 4's; 62nd bwv168.6, 102nd bwv244.15, 142nd bwv248.9-s is 24 s long, 182nd bwv64.8, then
# wrapping round, 222nd = 3rd bwv101.7); for the others (renaissance/medieval vocal) the first two
# that pass of each corpus folder in SHA-1 order of the path. Skipped in that order:
# - reels: none passes. Every unused ryansMammoth, O'Neill or Aird reel (609 + 23) is under 30 s
#   played once, jumps at its repeat endings, changes metre in the first minute or is above 200 BPM
#   by its Q: field, except Kitty O'Neil's Champion (R:reel), mis-barred as batch 5 found (each
#   written 2/4 bar holds four quarters of L:1/8 values);
# - jigs: only the Essence of Old Kentucky passes (the 354 other unused 6/8 jigs are under 30 s,
#   jump or change metre; the O'Neill file 1031-1115 with Strop the Razor and Wallop the Spot is
#   batch 5's);
# - hornpipes: the 275 candidates before Flee as a Bird and the one between it and the Halfway
#   House are under 30 s, jump or change metre;
# - strathspeys: before Sandy Buchanan's and O'er the Moor, Roy's Wife and Strathearn (2/4 and 1/4
#   bars in the first minute), Carmichael's and Look Before You (1/8 and 3/16 bars, grid jumps), 19
#   others jumping at the repeat (most 30.0 s long) or under 30 s;
# - slip jigs: only the Rocky Road to Dublin passes (O'Neill 1116, 1116-1135_mh); #1132 and #1135 are
#   in the same file (one tune per file), every other candidate is under 30 s or jumps;
# - waltzes: none unused (all in files of batches 4-5); polkas: the only one (essenFolksong/lot.abc)
#   is 8 bars;
# - marches: New Stepney (21 s, jumps), the Honble. Ramsey Maule's (25 s), the 3d Regt. Dragoon
#   Guards (29 s); book3#567 and #544 one tune per file;
# - songs (essenFolksong): 14 candidates under 30 s, han2#227 (1/16 bar, jumps) and irl#38 (a 1/4
#   bar); erk20#12 one per file;
# - movements: none. Every unused movement either has no rule (Mozart K80/4, K155/1, K156/4, Haydn
#   op. 1/1/4 "Menuetto", Schumann op. 41/1/3 "Intermezzo", Schoenberg op. 19/2 "Langsam" and 19/6,
#   Webern op. 16/2 "Ruhig": words not in the table, no metronome number) or fails the screen
#   (Beethoven op. 59/3/1: short bar at 24 s; opus132/133 and Schumann op. 41/1/1: metre changes;
#   Clara Schumann op. 17/3: below 40; weber/concertino_clarinet: overfull first bar), or is the same
#   music as a used file (the beethoven opus18no1 krn files, corelli .musx, cpebach .mus, ciconia
#   quod_jactatur.mus, schumann_robert/opus48no2); demos/ and theoryExercises/ hold test files and
#   exercises: the two with a tempo word or printed mark are 3-4 bars, the rest have no rule;
# - others: trecento Gloria Ciconia 9 (36/4 -> 6/8 at 9 s), Kyrie Humano Generi b (3/2 -> 2/4 at
#   4.5 s) and Kyrie Principum Effectivum (2/4 -> 6/8 at 27 s): metre changes; luca/gloria (6/8 -> 2/4
#   at 41 s); josquin/*.abc (the parts parse as one line); lusitano's and ciconia's only scores used.
# Renders checked (no tracker): 32.6-64.5 s, RMS -38.7 to -23.1 dBFS, peaks -18.3 to -6.6 dBFS,
# beat counts within a third of a bar of the rendered span, constant beat spacing, first beat within
# the first bar, every onset on a beat or a 2/3/4 subdivision. Partial bars that keep the beat grid
# (as aird_chorus_jig of batch 4): the jig's one-beat bars at 3.3, 6.9, 14.7 and 30.7 s (music21
# drops its ">"-annotated pickup notes), the Halfway House's three-beat bars closing each strain
# (20.7 and 42.9 s); elsewhere 3 + 1 beat splits at repeat signs and pickup-completing last bars.
# Instruments alternate by list position, slow-attack on even positions (organ, choir, strings,
# flute, clarinet, oboe, in turn) and percussive on odd ones (piano, harpsichord, guitar, harp,
# marimba, banjo, accordion, in turn).
PIECES_6 = [
    # folk tunes and songs (no reel, waltz or polka passes; one jig, one slip jig)
    ("jig_essence_of_old_kentucky", "ryansMammoth/EssenceOfOldKentucky.abc", None, 116, [19]),  # d: jig, 6/8
    ("hornpipe_flee_as_a_bird", "ryansMammoth/FleeAsABird.abc", None, 84, [0]),  # d: hornpipe, 4/4
    ("oneill_halfway_house", "oneills1850/1556-1576.abc", 1569, 84, [52]),  # d: hornpipe, 4/4
    ("oneill_rocky_road_to_dublin", "oneills1850/1116-1135_mh.abc", 1116, 116, [6]),  # d: slip jig, 9/8
    ("strathspey_sandy_buchanans", "ryansMammoth/SandyBuchanansStrathspey.abc", None, 128, [40, 40, 41, 42]),  # d: strathspey, 4/4
    ("strathspey_oer_the_moor", "ryansMammoth/OerTheMoorAmongTheHeatherStrathspey.abc", None, 128, [24]),  # d: strathspey, 4/4
    ("aird_lord_bernards_march", "airdsAirs/book3.abc", 578, 132, [73]),  # b: Q:1/2=66 in 4/4, march
    ("aird_dundee_volunteers_march", "airdsAirs/book5.abc", 803, 80, [46]),  # b: Q:1/4=80 "Slow", march, 4/4
    ("essen_ist_denn_lieben", "essenFolksong/erk20.abc", 32, 80, [71]),  # e: song, 4/4
    ("essen_wohl_auf_kameraden", "essenFolksong/fink0.abc", 327, 80, [12]),  # e: song, 4/4
    # Bach chorales (every 40th from the 22nd; bwv121.6 used in batch 4, bwv248.9-s 24 s)
    ("bach_bwv168_6", "bach/bwv168.6", None, 80, [68]),  # e: chorale
    ("bach_bwv244_15", "bach/bwv244.15", None, 80, [105]),  # e: chorale
    ("bach_bwv64_8", "bach/bwv64.8", None, 80, [19]),  # e: chorale
    ("bach_bwv101_7", "bach/bwv101.7", None, 80, [21]),  # e: chorale
    # others (the first two that pass of each folder in SHA-1 order)
    ("trecento_gloria_egardus", "trecento/PMFC_12_7-Gloria Egardus.xml", None, 80, [52]),  # e: mass, 3/4
    ("trecento_gloria_12_5", "trecento/PMFC_12_5-Gloria PMFC 12.5.xml", None, 80, [0]),  # e: mass, 3/4
    ("monteverdi_3_2", "monteverdi/madrigal.3.2.mxl", None, 80, [40, 40, 41, 42, 42]),  # e: madrigal, 4/4
    ("monteverdi_3_12", "monteverdi/madrigal.3.12.mxl", None, 80, [6]),  # e: madrigal, 4/4
    ("palestrina_kyrie_31_b", "palestrina/Kyrie_31_b.krn", None, 80, [73]),  # e: mass, 4/2 half
    ("palestrina_sanctus_49_a", "palestrina/Sanctus_49_a.krn", None, 80, [24]),  # e: mass, 4/2 half
]


def split_of(pid: str) -> str:
    """The fixed development / held-out rule: first byte of SHA-1(id) modulo 5; 0 or 1 = "test"."""
    return "test" if hashlib.sha1(pid.encode()).digest()[0] % 5 < 2 else "dev"


def _score(path: str, number):
    from music21 import corpus

    if number is None:
        return corpus.parse(path)
    return corpus.parse(path, number=number)


def _beats_quarters(score):
    """Beat offsets (quarter lengths from the start) and which of them are downbeats."""
    from music21 import meter

    part = score.parts[0] if hasattr(score, "parts") and len(score.parts) else score
    measures = list(part.getElementsByClass("Measure"))
    beats, downs = [], []
    ts = None
    for i, m in enumerate(measures):
        if m.timeSignature is not None:
            ts = m.timeSignature
        if ts is None:
            ts = meter.TimeSignature("4/4")
        bd = float(ts.beatDuration.quarterLength)
        bar = float(ts.barDuration.quarterLength)
        dur = float(m.duration.quarterLength)
        pad = float(m.paddingLeft or 0.0)
        if i == 0 and dur < bar - 1e-6:  # pickup: aligned to its closing barline
            pad = bar - dur
        start = float(m.getOffsetBySite(part))
        k = 0
        while k * bd - pad < dur - 1e-6:
            pos = k * bd - pad
            if pos >= -1e-6:
                beats.append(start + pos)
                downs.append(k == 0)
            k += 1
    return beats, downs


def fluidsynth(mid: Path, wav: Path, pid: str) -> bool:
    """Render a MIDI file with FluidSynth under ``timeout`` (a stuck note must not run for ever);
    False (and no WAV) when it fails."""
    cmd = ["timeout", "120", "fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SR), "-F", str(wav),
           SOUNDFONT, str(mid)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or not wav.exists():
        print(f"{pid}: fluidsynth failed ({r.returncode}): {r.stderr[-300:]}", file=sys.stderr)
        wav.unlink(missing_ok=True)
        return False
    return True


def build_piece(pid, path, number, bpm, programs, force=False):
    import numpy as np
    import pretty_midi
    from music21 import meter

    wav, txt = OUT / f"{pid}.wav", OUT / f"{pid}.beats.txt"
    if wav.exists() and txt.exists() and not force:
        return True
    s = _score(path, number)
    ts0 = next(iter(s.recurse().getElementsByClass(meter.TimeSignature)), None) or meter.TimeSignature("4/4")
    sec_per_q = 60.0 / bpm / float(ts0.beatDuration.quarterLength)
    beats_q, downs = _beats_quarters(s)
    beat_set = {round(b, 4) for b in beats_q}
    down_set = {round(b, 4) for b, d in zip(beats_q, downs) if d}
    pm = pretty_midi.PrettyMIDI(initial_tempo=60.0 / sec_per_q)
    parts = list(s.parts) if hasattr(s, "parts") and len(s.parts) else [s]
    end_time = 0.0
    for pi, part in enumerate(parts):
        prog = programs[pi % len(programs)]
        inst = pretty_midi.Instrument(program=prog, is_drum=False)
        for n in part.stripTies().flatten().notes:
            q = float(n.getOffsetInHierarchy(part))
            t0 = q * sec_per_q
            if t0 >= MAX_SECONDS:
                continue
            dq = float(n.duration.quarterLength)
            if dq <= 0:  # grace notes
                continue
            t1 = min(t0 + dq * sec_per_q * 0.95, MAX_SECONDS + 2.0)
            key = round(q, 4)
            vel = 100 if key in down_set else (88 if key in beat_set else 74)
            for p in getattr(n, "pitches", []):
                inst.notes.append(pretty_midi.Note(velocity=vel, pitch=int(p.midi), start=t0, end=t1))
            end_time = max(end_time, t1)
        pm.instruments.append(inst)
    for inst in pm.instruments:  # stuck-note guard
        inst.control_changes.append(pretty_midi.ControlChange(123, 0, end_time + 0.05))
        inst.control_changes.append(pretty_midi.ControlChange(120, 0, end_time + 0.05))
    mid = OUT / f"{pid}.mid"
    pm.write(str(mid))
    if not fluidsynth(mid, wav, pid):
        return False
    bt = np.array([b * sec_per_q for b in beats_q])
    bt = bt[bt <= min(end_time, MAX_SECONDS)]
    np.savetxt(txt, bt, fmt="%.6f")
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild cached pieces")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore")
    manifest = []
    batches = [(1, p) for p in PIECES] + [(2, p) for p in PIECES_2] + [(3, p) for p in PIECES_3]
    batches += [(4, p) for p in PIECES_4] + [(5, p) for p in PIECES_5] + [(6, p) for p in PIECES_6]
    for batch, (pid, path, number, bpm, programs) in batches:
        try:
            ok = build_piece(pid, path, number, bpm, programs, force=args.force)
        except Exception as exc:  # a corpus piece that music21 cannot parse: skip it, say so
            print(f"{pid}: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
            ok = False
        if ok:
            manifest.append({"id": pid, "corpus": path, "number": number, "bpm": bpm, "programs": programs,
                             "batch": batch, "split": {4: "fresh", 5: "fresh5", 6: "fresh6"}.get(batch) or split_of(pid)})
            print(f"{pid}: ok", file=sys.stderr)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"{len(manifest)} pieces in {OUT}")


if __name__ == "__main__":
    main()
