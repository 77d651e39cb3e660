"""The signal graph: nodes that produce float64 blocks shaped (channels, frames).

>>> from resonator.graph import Sine, Curve, PinkNoise, Channels
>>> beat = Curve([(0, 10.0), (60, 4.0)])              # 10 -> 4 Hz over a minute
>>> left = Sine(200 + 0.5 * beat)                      # carrier + beat/2
>>> right = Sine(200 - 0.5 * beat)                     # carrier - beat/2
>>> session = 0.2 * Channels([left, right]) + PinkNoise(channels=2, amplitude=0.4)
"""
from .core import (
    Constant,
    DbToAmp,
    FunctionOfTime,
    Map,
    Node,
    Product,
    RenderContext,
    Sum,
    TimeFunction,
    as_node,
    copy_graph,
    walk,
)
from .curves import Curve, glide
from .effects import Effect
from .filters import BandPass, Filter, HighPass, HighShelf, LowPass, LowShelf
from .noise import BrownNoise, Noise, PinkNoise, WhiteNoise
from .oscillators import Oscillator, Pulse, Saw, Sine, Square, Triangle
from .stereo import Channels, Gain, Mix, Pan, Select

__all__ = [
    "BandPass", "Effect", "Filter", "HighPass", "HighShelf", "LowPass", "LowShelf",
    "BrownNoise", "Channels", "Constant", "Curve", "DbToAmp", "FunctionOfTime", "Gain", "Map",
    "Mix", "Node", "Noise", "Oscillator", "Pan", "PinkNoise", "Product", "Pulse",
    "RenderContext", "Saw", "Select", "Sine", "Square", "Sum", "TimeFunction", "Triangle",
    "WhiteNoise", "as_node", "copy_graph", "glide", "walk",
]
