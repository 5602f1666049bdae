"""course_utils.wiring: stored numbers, receptive field and channel mixing measured on a block's graph.

The reference answers come from elsewhere: receptive fields from the analytic
``shapes.receptive_field``, stored numbers from the grader's own ``rebuild_module`` (what
grading counts), channel mixing from the groups of the convolutions.
"""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import shapes, wiring

C = 4
SHAPE = (1, C, 27, 29)  # non-square, large enough for the default window (11) and margin (8)


def grader_kernel():
    path = Path(__file__).resolve().parents[1] / "tools" / "homework_tools" / "kernel.py"
    spec = importlib.util.spec_from_file_location("_wiring_test_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SE(nn.Module):  # notebook 05's squeeze-and-excitation: a global average, then per-channel gates
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, 2), nn.Linear(2, c)

    def forward(self, x):
        gates = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * gates[:, :, None, None]


class KernelInBuffer(nn.Module):  # a depthwise 5x5 kept out of parameters()
    def __init__(self):
        super().__init__()
        self.register_buffer("k", torch.randn(C, 1, 5, 5))
        self.pw = nn.Conv2d(C, C, 1)

    def forward(self, x):
        return self.pw(F.conv2d(x, self.k, padding=2, groups=C))


class KernelInAttribute(nn.Module):  # a full 5x5 kernel in a plain attribute: a constant of the graph
    def __init__(self):
        super().__init__()
        self.k = torch.randn(C, C, 5, 5)

    def forward(self, x):
        return F.conv2d(x, self.k, padding=2)


class ChannelsLastNorm(nn.Module):  # depthwise 5x5 + LayerNorm over channels (ConvNeXt without its MLP)
    def __init__(self):
        super().__init__()
        self.dw, self.norm = nn.Conv2d(C, C, 5, padding=2, groups=C), nn.LayerNorm(C)

    def forward(self, x):
        return self.norm(self.dw(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def measure(block):
    return wiring.measure_block(block, SHAPE)


@pytest.mark.parametrize("block, field, mixes", [
    (nn.Conv2d(C, C, 3, padding=1), (3, 3), True),
    (nn.Sequential(nn.Conv2d(C, C, 3, padding=1), nn.Conv2d(C, C, 3, padding=1)), (5, 5), True),
    (nn.Conv2d(C, C, (5, 1), padding=(2, 0)), (5, 1), True),
    (nn.Conv2d(C, C, (1, 5), padding=(0, 2)), (1, 5), True),
    (nn.Conv2d(C, C, 5, padding=2, groups=C), (5, 5), False),
    (nn.Sequential(nn.Conv2d(C, C, 3, padding=1, groups=2), nn.Conv2d(C, C, 3, padding=1, groups=2)), (5, 5), False),
    (nn.Identity(), (1, 1), False),
    (nn.Conv2d(C, C, 1), (1, 1), True),
    (nn.Sequential(nn.AvgPool2d(5, 1, 2), nn.Conv2d(C, C, 1)), (5, 5), True),
    (nn.Sequential(nn.MaxPool2d(5, 1, 2), nn.Conv2d(C, C, 1), nn.ReLU6()), (5, 5), True),
    (nn.Sequential(nn.Conv2d(C, C, 3, padding=2, dilation=2, groups=C), nn.Conv2d(C, C, 1)), (5, 5), True),
])
def test_receptive_field_and_mixing_of_known_blocks(block, field, mixes):
    got = measure(block)
    assert (got.receptive_field, got.mixes_channels) == (field, mixes)
    assert got.out_shape == SHAPE


def test_a_global_average_is_not_a_window_and_its_gates_do_not_mix_channels():
    assert measure(nn.Sequential(nn.Conv2d(C, C, 1), SE(C))).receptive_field == (1, 1)
    depthwise_se = measure(nn.Sequential(nn.Conv2d(C, C, 5, padding=2, groups=C), SE(C)))
    assert depthwise_se.receptive_field == (5, 5) and not depthwise_se.mixes_channels


def test_a_normalisation_over_channels_does_not_mix_them():
    assert not measure(ChannelsLastNorm()).mixes_channels
    assert measure(nn.Sequential(ChannelsLastNorm(), nn.Conv2d(C, C, 1))).mixes_channels


def test_dead_relus_at_initialisation_hide_nothing():
    # a ReLU after the depthwise conv makes every pointwise input positive: some output channels are
    # negative everywhere at initialisation (dead), yet the block is wired to mix every channel
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(64, 64, 5, padding=2, groups=64), nn.ReLU(), nn.Conv2d(64, 64, 1), nn.ReLU())
    x = torch.randn(1, 64, 9, 9)
    assert (block(x) > 0).flatten(2).any(2).logical_not().any(), "the test needs a dead output channel"
    got = wiring.measure_block(block, (1, 64, 27, 29))
    assert got.mixes_channels and got.receptive_field == (5, 5)


def test_stored_numbers_count_buffers_and_constants_as_the_grader_does():
    kernel = grader_kernel()
    for block, expected in ((nn.Sequential(nn.Conv2d(C, C, 3, bias=False), nn.BatchNorm2d(C)), 9 * C * C + 4 * C + 1),
                            (KernelInBuffer(), 25 * C + C * C + C),
                            (KernelInAttribute(), 25 * C * C)):
        got = measure(block)
        rebuilt = kernel.rebuild_module(kernel.export_module(block.eval(), torch.rand(SHAPE)))
        assert got.stored_numbers == rebuilt.stored_numbers == expected
        again = wiring.measure_wiring(rebuilt, SHAPE)
        assert (again.receptive_field, again.mixes_channels) == (got.receptive_field, got.mixes_channels)


def test_shape_changes_are_reported():
    assert measure(nn.Conv2d(C, C, 3)).out_shape == (1, C, 25, 27)
    assert measure(nn.Conv2d(C, 2 * C, 3, stride=2, padding=1)).out_shape == (1, 2 * C, 14, 15)


def test_a_block_that_ignores_its_input():
    class Zeros(nn.Module):
        def forward(self, x):
            return torch.zeros_like(x)

    got = measure(Zeros())
    assert got.receptive_field == (0, 0) and not got.mixes_channels and got.stored_numbers == 0


def test_the_block_is_not_changed():
    block = nn.Sequential(nn.Conv2d(C, C, 3, padding=1), nn.BatchNorm2d(C)).train()
    before = [t.clone() for t in block.state_dict().values()]
    measure(block)
    assert block.training and all(torch.equal(a, b) for a, b in zip(before, block.state_dict().values()))


@pytest.mark.parametrize("shape, match", [((1, C, 27), "input_shape must be"), ((2, C, 27, 27), r"must be \(1, C, H, W\)"),
                                          ((1, C, 20, 27), "H, W >= 27"), ((1, 0, 27, 28), r"input_shape\[1\]"),
                                          ((1, C, 27, 27), "one of them >= 28"),
                                          ("1, 4, 27, 27", "input_shape must be")])
def test_bad_input_shapes(shape, match):
    with pytest.raises(ValueError, match=match):
        wiring.measure_block(nn.Conv2d(C, C, 3, padding=1), shape)


def test_bad_blocks():
    with pytest.raises(TypeError, match="block must be an nn.Module"):
        wiring.measure_block(lambda x: x, SHAPE)

    class Pair(nn.Module):
        def forward(self, x):
            return x, x

    with pytest.raises(ValueError, match=r"must return one \(N, C, H, W\) tensor"):
        measure(Pair())
    with pytest.raises(ValueError, match="cannot export the block"):
        measure(nn.Linear(3, 3))


def test_a_field_that_fills_the_window_is_measured_against_pixels_outside_it():
    # the far reference (the part every pixel shares) used to be taken inside the window when the input
    # was just large enough: a 5 x 5 average then measured as no field at all; that shape is now refused
    graph, _ = wiring.export_block(nn.AvgPool2d(5, 1, 2), (1, 2, 9, 10))
    assert wiring.measure_wiring(graph, (1, 2, 9, 10), radius=2, margin=2).receptive_field == (5, 5)
    with pytest.raises(ValueError, match="one of them >= 10"):
        wiring.measure_wiring(graph, (1, 2, 9, 9), radius=2, margin=2)


def test_measure_wiring_needs_a_graph_of_the_shape_it_measures():
    graph, _ = wiring.export_block(nn.Conv2d(C, C, 3, padding=1), SHAPE)
    with pytest.raises(ValueError, match=r"input_shape it was exported for"):  # was torch's raw guard AssertionError
        wiring.measure_wiring(graph, (1, C, 29, 29))
    with pytest.raises(TypeError, match=r"module must be .*measure_block"):  # was a raw dtype RuntimeError
        wiring.measure_wiring(nn.Conv2d(C, C, 3, padding=1), SHAPE)


def test_generated_conv_stacks_match_the_analytic_receptive_field():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    layer = st.tuples(st.sampled_from([1, 3, 5]), st.sampled_from([1, 2]), st.booleans(), st.booleans())

    @hypothesis.settings(max_examples=15, deadline=None)
    @hypothesis.given(st.lists(layer, min_size=1, max_size=3))
    def prop(layers):
        stack = []
        for k, d, depthwise, relu in layers:
            stack.append(nn.Conv2d(C, C, k, padding=d * (k // 2), dilation=d, groups=C if depthwise else 1))
            if relu:
                stack.append(nn.ReLU())
        block = nn.Sequential(*stack)
        side = shapes.receptive_field(block).size
        hypothesis.assume(max(side) <= 11)  # the window measured (a larger dilated field has holes at its edge)
        got = measure(block)
        assert got.receptive_field == tuple(side)
        assert got.mixes_channels == any(not depthwise for k, d, depthwise, relu in layers)

    prop()
