"""Embedded generators: datasets produced offline in the file formats of their public counterparts.

Jets (:mod:`cern_ai_bench.generate.jets`): Pythia 8 + FastJet jets of the five hls4ml classes
written in the hls4ml raw HDF5 format; their substructure features
(:mod:`cern_ai_bench.generate.substructure`) can be computed on any jets' constituents.
"""

from __future__ import annotations
