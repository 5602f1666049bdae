import itertools

import pytest
import torch
from torch import nn

from course_utils.shapes import ShapeError, conv2d_output_shape, conv_output_size, trace


def test_formula_matches_torch_over_a_grid():
    checked = 0
    for h, k, s, p, d in itertools.product([5, 8, 13], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]):
        try:
            expected = conv_output_size(h, k, s, p, d)
        except ShapeError:
            with pytest.raises(RuntimeError):
                nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, h, h))
            continue
        out = nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, h, h))
        assert out.shape[-1] == expected, (h, k, s, p, d)
        checked += 1
    assert checked > 150


def test_conv2d_output_shape_and_errors():
    assert conv2d_output_shape((8, 3, 32, 32), 16, 3, padding=1) == (8, 16, 32, 32)
    assert conv2d_output_shape((3, 32, 32), 16, 3, padding="same") == (16, 32, 32)
    assert conv2d_output_shape((3, 32, 30), 6, (5, 3), stride=(1, 2)) == (6, 28, 14)
    with pytest.raises(ShapeError, match="groups=4 must divide in_channels=6"):
        conv2d_output_shape((6, 8, 8), 8, 3, groups=4)
    with pytest.raises(ShapeError, match="kernel spans 5 cells"):
        conv2d_output_shape((1, 4, 4), 1, 5)
    with pytest.raises(ShapeError, match="stride=1"):
        conv2d_output_shape((1, 4, 4), 1, 3, stride=2, padding="same")
    with pytest.raises(ShapeError, match="stride must be an int >= 1"):
        conv_output_size(8, 3, stride=0)


def test_trace_lists_layers_and_params():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 13 * 13, 10))
    rows = trace(model, (2, 1, 28, 28))
    assert [r.output_shape for r in rows] == [(2, 4, 26, 26), (2, 4, 26, 26), (2, 4, 13, 13), (2, 676), (2, 10)]
    assert rows.total_params() == sum(p.numel() for p in model.parameters())
    assert "Linear(676, 10)" in str(rows)


def test_trace_names_the_failing_layer():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ShapeError, match=r"layer '2' \(Linear\(64, 10\)\) failed on an input of shape \(1, 2704\)"):
        trace(model, (1, 1, 28, 28))


# ---------------------------------------------------------------------------------------
# conv2d_output_shape against real nn.Conv2d, including groups, 'same' and impossible settings

from course_utils.shapes import (  # noqa: E402
    RFTable,
    conv_input_cells,
    effective_receptive_field,
    measure_receptive_field,
    receptive_field,
)


def _torch_shape(c_in, h, w, c_out, k, s, p, d, g):
    try:
        return tuple(nn.Conv2d(c_in, c_out, k, s, p, d, groups=g)(torch.zeros(1, c_in, h, w)).shape), None
    except (RuntimeError, ValueError) as err:
        return None, err


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv2d_output_shape_matches_torch_over_a_grid():
    agree = refused = 0
    grid = itertools.product([(4, 7), (9, 6)], [1, (2, 4), 5], [1, 2, (3, 1)], [0, (2, 0), "same", "valid"],
                             [1, 2], [(4, 6, 2), (4, 4, 4), (6, 4, 4)])
    for (h, w), k, s, p, d, (c_in, c_out, g) in grid:
        got, err = _torch_shape(c_in, h, w, c_out, k, s, p, d, g)
        if got is None:
            with pytest.raises(ShapeError):
                conv2d_output_shape((1, c_in, h, w), c_out, k, s, p, d, g)
            refused += 1
        else:
            assert conv2d_output_shape((1, c_in, h, w), c_out, k, s, p, d, g) == got, (h, w, k, s, p, d, g)
            agree += 1
    assert agree > 150 and refused > 100, (agree, refused)  # 432 settings in all


@pytest.mark.parametrize("bad, match", [
    (dict(input_shape=(3, 8)), "expected an input shape"),
    (dict(input_shape=(3, 0, 8)), "positive ints"),
    (dict(out_channels=0), "out_channels must be an int >= 1"),
    (dict(kernel_size=(3, 3, 3)), "kernel_size must be an int or a pair"),
    (dict(padding="full"), "padding must be an int, a pair of ints, 'same' or 'valid'"),
    (dict(groups=0), "groups=0 must divide"),
    (dict(dilation=0), "dilation must be an int >= 1"),
    (dict(padding=-1), "padding must be an int >= 0"),
])
def test_conv2d_output_shape_rejects_bad_settings(bad, match):
    args = dict(input_shape=(4, 8, 8), out_channels=4, kernel_size=3)
    args.update(bad)
    with pytest.raises((ShapeError, TypeError), match=match):
        conv2d_output_shape(**args)


def test_shape_error_is_a_value_error():
    assert issubclass(ShapeError, ValueError)


def test_trace_describes_dilation_and_groups():
    rows = trace(nn.Sequential(nn.Conv2d(4, 8, 3, dilation=2, groups=4)), (1, 4, 9, 9))
    assert rows[0].layer == "Conv2d(4, 8, k=3, s=1, p=0, d=2, g=4)"


# ---------------------------------------------------------------------------------------
# which input cells feed an output cell, checked with gradients

@pytest.mark.parametrize("size, k, s, p, d", [(7, 3, 1, 0, 1), (7, 3, 2, 1, 1), (9, 3, 1, 2, 2), (8, 2, 3, 1, 3),
                                              (5, 1, 2, 0, 1), (6, 4, 1, 3, 1)])
def test_conv_input_cells_match_gradients(size, k, s, p, d):
    conv = nn.Conv1d(1, 1, k, s, p, d, bias=False)
    nn.init.ones_(conv.weight)
    for i in range(conv_output_size(size, k, s, p, d)):
        x = torch.zeros(1, 1, size, requires_grad=True)
        conv(x)[0, 0, i].backward()
        expected = x.grad[0, 0].nonzero()[:, 0].tolist()
        assert [c for c in conv_input_cells(i, k, s, p, d) if 0 <= c < size] == expected


def test_conv_input_cells_rejects_bad_input():
    assert conv_input_cells(1, 3, stride=2, padding=1) == [1, 2, 3]
    with pytest.raises(ShapeError, match="out_index must be an int >= 0"):
        conv_input_cells(-1, 3)
    with pytest.raises(ShapeError, match="stride must be an int >= 1"):
        conv_input_cells(0, 3, stride=0)


# ---------------------------------------------------------------------------------------
# receptive fields: the analytic table against gradient measurements

def _clip(window, n):
    return max(window[0], 0), min(window[1], n - 1)


def _random_stack(rng: torch.Generator) -> nn.Sequential:
    layers, c = [], 1
    for _ in range(int(torch.randint(1, 5, (1,), generator=rng))):
        kind = int(torch.randint(0, 4, (1,), generator=rng))
        k = int(torch.randint(1, 5, (1,), generator=rng))
        s = int(torch.randint(1, 3, (1,), generator=rng))
        d = int(torch.randint(1, 3, (1,), generator=rng))
        p = int(torch.randint(0, (d * (k - 1)) // 2 + 1, (1,), generator=rng))
        if kind == 0:
            layers.append(nn.MaxPool2d(max(k, 2), s, min(p, max(k, 2) // 2), dilation=d))
        elif kind == 1:
            layers.append(nn.AvgPool2d(max(k, 2), s, min(p, max(k, 2) // 2)))
        else:
            layers += [nn.Conv2d(c, 3, (k, k + 1), (s, 1), (p, 0), d), nn.ReLU()]
            c = 3
    return nn.Sequential(*layers)


def test_receptive_field_matches_gradient_measurement_on_random_stacks():
    rng = torch.Generator().manual_seed(0)
    exact = 0
    for trial in range(40):
        model = _random_stack(rng)
        table = receptive_field(model, 48)
        out = model(torch.zeros(1, 1, 48, 48))
        assert table[-1].output_size == tuple(out.shape[-2:]), (trial, model)
        h, w = out.shape[-2:]
        for pos in {(0, 0), ((h - 1) // 2, (w - 1) // 2), (h - 1, w - 1)}:
            measured = measure_receptive_field(model, (1, 1, 48, 48), pos)
            rows, cols = table.window(*pos)
            if min(rows[0], cols[0]) >= 0 and max(rows[1], cols[1]) < 48:  # window inside the image: exact
                assert (measured.rows, measured.cols) == (rows, cols), (trial, pos, model)
                exact += 1
            else:  # clipped by the border (where a dilation hole may fall on the last pixel): inside the window
                (r0, r1), (c0, c1) = _clip(rows, 48), _clip(cols, 48)
                assert r0 <= measured.rows[0] <= measured.rows[1] <= r1, (trial, pos, model)
                assert c0 <= measured.cols[0] <= measured.cols[1] <= c1, (trial, pos, model)
    assert exact >= 30


def test_receptive_field_of_a_classic_stack():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 8, 3, padding="same"), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Sequential(nn.Conv2d(8, 8, 3, dilation=2, padding=2), nn.Dropout()))
    table = receptive_field(model, (28, 28))
    assert isinstance(table, RFTable) and len(table) == 1 + 9
    assert [r.size[0] for r in table] == [1, 3, 3, 4, 8, 8, 8, 10, 26, 26]
    assert table.jump == (4, 4) and table.start == (-11, -11) and table[-1].output_size == (7, 7)
    assert table[1].center == (0.0, 0.0) and table[-1].center == (1.5, 1.5)  # 2x2 pools shift by 0.5
    assert "RF size" in str(table) and "Conv2d(8, 8, k=3, s=1, p=2, d=2)" in str(table)
    measured = measure_receptive_field(model, (1, 1, 64, 64))
    assert measured.size == table.size


def test_dilated_receptive_field_has_holes():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=4))
    measured = measure_receptive_field(model, (1, 1, 9, 9), (0, 0))
    assert measured.size == receptive_field(model).size == (9, 9)
    assert int(measured.mask.sum()) == 9  # 3x3 taps spread over a 9x9 box


def test_receptive_field_ceil_mode_output_size():
    for h in range(2, 12):
        for k, s, p in [(2, 2, 0), (3, 2, 1), (3, 3, 0), (2, 3, 1)]:
            if p > k // 2:
                continue
            pool = nn.MaxPool2d(k, s, p, ceil_mode=True)
            try:
                expected = tuple(pool(torch.zeros(1, 1, h, h)).shape[-2:])
            except RuntimeError:
                continue
            assert receptive_field([pool], h)[-1].output_size == expected, (h, k, s, p)


def test_receptive_field_rejects_what_it_cannot_follow():
    with pytest.raises(TypeError, match="got Flatten"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)

    with pytest.raises(TypeError, match="must be an nn.Sequential"):
        receptive_field(Block())
    with pytest.raises(TypeError, match="with sub-layers"):
        receptive_field(nn.Sequential(Block()))
    with pytest.raises(TypeError, match="list of nn.Module"):
        receptive_field([3, 3])
    with pytest.raises(ShapeError, match=r"layer '1' \(Conv2d\(1, 1, k=5"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 5)), 6)
    assert receptive_field(nn.Conv2d(1, 1, 5)).size == (5, 5)


def test_measure_receptive_field_rejects_bad_input():
    with pytest.raises(ShapeError, match="must return feature maps"):
        measure_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), (1, 1, 8, 8))
    with pytest.raises(ShapeError, match="inside the output of size"):
        measure_receptive_field(nn.Conv2d(1, 1, 3), (1, 1, 8, 8), (6, 0))
    with pytest.raises(ShapeError, match=r"input_shape must be \(N, C, H, W\)"):
        measure_receptive_field(nn.Conv2d(1, 1, 3), (8, 8))
    with pytest.raises(TypeError, match="nn.Module"):
        measure_receptive_field("net", (1, 1, 8, 8))


def test_effective_receptive_field():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
    model.train()
    erf = effective_receptive_field(model, torch.rand(8, 1, 21, 21))
    assert model.training, "the model's mode must be restored"
    assert erf.shape == (21, 21) and erf.max() == 1
    rows, cols = receptive_field(model).window(7, 7)
    inside = torch.zeros(21, 21, dtype=torch.bool)
    inside[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = True
    assert erf[~inside].abs().sum() == 0 and erf[inside].sum() > 0
    one = effective_receptive_field(model, torch.rand(2, 1, 21, 21), position=(0, 0), channel=1)
    assert one[7:].sum() == 0 and one[:, 7:].sum() == 0
    with pytest.raises(ValueError, match=r"images must be a 4D batch \(N, C, H, W\), got shape \(1, 21, 21\)"):
        effective_receptive_field(model, torch.rand(1, 21, 21))
    with pytest.raises(ShapeError, match="channel must lie in 0..3"):
        effective_receptive_field(model, torch.rand(1, 1, 21, 21), channel=4)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("k, d, mode", [(4, 1, "zeros"), (2, 1, "zeros"), (4, 3, "zeros"), (3, 2, "reflect"),
                                        (4, 1, "circular")])
def test_receptive_field_of_same_padding_with_even_kernels(k, d, mode):
    model = nn.Sequential(nn.Conv2d(1, 1, k, padding="same", dilation=d, padding_mode=mode))
    table = receptive_field(model, 12)
    measured = measure_receptive_field(model, (1, 1, 12, 12), (5, 5))
    assert table[-1].output_size == (12, 12)
    assert table.window(5, 5) == (measured.rows, measured.cols)


# ---------------------------------------------------------------------------------------
# transposed convolution: the formula against nn.ConvTranspose2d

from course_utils.shapes import conv_transpose_output_size  # noqa: E402


def test_transposed_formula_matches_torch_over_a_grid():
    checked = refused = 0
    for h, k, s, p, op, d in itertools.product([1, 2, 5, 8], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2]):
        layer = nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d)
        try:
            expected = conv_transpose_output_size(h, k, s, p, op, d)
        except ShapeError:
            try:  # torch raises, or returns an empty output (size 0) that breaks the next layer
                assert layer(torch.zeros(1, 1, h, h)).shape[-1] == 0, (h, k, s, p, op, d)
            except RuntimeError:
                pass
            refused += 1
            continue
        assert layer(torch.zeros(1, 1, h, h)).shape[-1] == expected, (h, k, s, p, op, d)
        checked += 1
    assert checked > 300 and refused > 50


def test_transposed_conv_undoes_the_conv_shape():
    for h, k, s, p in itertools.product(range(4, 12), [2, 3, 4], [1, 2], [0, 1]):
        out = conv_output_size(h, k, s, p)
        back = {conv_transpose_output_size(out, k, s, p, op) for op in range(s)}
        assert h in back, (h, k, s, p)


def test_transposed_formula_refuses_bad_settings():
    with pytest.raises(ShapeError, match="output_padding=2 must be smaller than stride=2 or dilation=1"):
        conv_transpose_output_size(4, 3, stride=2, output_padding=2)
    with pytest.raises(ShapeError, match="use less padding"):
        conv_transpose_output_size(2, 3, padding=5)
    with pytest.raises(ShapeError, match="stride must be an int >= 1"):
        conv_transpose_output_size(4, 3, stride=0)
    assert conv_transpose_output_size(4, 4, stride=2, padding=1) == 8  # the usual 2x upsampling layer


# 1D: nn.Conv1d shapes and receptive fields (notebook 08)

from course_utils.shapes import conv1d_output_shape  # noqa: E402


def test_conv1d_output_shape_matches_torch_over_a_grid():
    checked = refused = 0
    for n, length, c_out, k, s, p, d, g in itertools.product([1, 3], [1, 4, 9, 40], [3, 6], [1, 2, 3, 5], [1, 2, 3],
                                                             [0, 1, 2, "same", "valid"], [1, 2], [1, 3]):
        c_in = 3
        try:
            predicted = conv1d_output_shape((n, c_in, length), c_out, k, s, p, d, g)
        except ShapeError:
            predicted = None
        try:
            real = tuple(nn.Conv1d(c_in, c_out, k, s, p, d, g)(torch.zeros(n, c_in, length)).shape)
        except (RuntimeError, ValueError):  # ValueError: torch refuses padding='same' with stride > 1
            real = None
        assert predicted == real, (length, c_out, k, s, p, d, g)
        checked += real is not None
        refused += real is None
    assert checked > 500 and refused > 100
    assert conv1d_output_shape((25, 19), 25, 3, 2, 1) == (25, 10)  # unbatched (C, L) -> (C_out, L_out)


@pytest.mark.parametrize("bad,match", [
    (dict(input_shape=(1, 3, 8, 8)), r"expected an input shape \(C, L\) or \(N, C, L\)"),
    (dict(input_shape=(3, 0)), "of positive ints"),
    (dict(kernel_size=(3, 3)), "kernel_size must be an int"),
    (dict(kernel_size=9), "kernel spans 9 cells"),
    (dict(groups=2), "groups=2 must divide in_channels=3"),
    (dict(padding="full"), "padding must be an int"),
    (dict(stride=2, padding="same"), "stride=1"),
    (dict(out_channels=0), "out_channels must be an int >= 1"),
])
def test_conv1d_output_shape_rejects_bad_settings(bad, match):
    args = dict(input_shape=(3, 8), out_channels=4, kernel_size=3) | bad
    with pytest.raises((ShapeError, TypeError), match=match):
        conv1d_output_shape(**args)


def _causal(c_in, c_out, k, d):
    return nn.Sequential(nn.ConstantPad1d((d * (k - 1), 0), 0.0), nn.Conv1d(c_in, c_out, k, dilation=d))


def test_receptive_field_of_a_causal_dilated_1d_stack_matches_gradients():
    stack = nn.Sequential(*[m for i, d in enumerate([1, 2, 4, 8]) for m in (_causal(1 if i == 0 else 4, 4, 3, d),
                                                                           nn.Tanh())])  # tanh: no path blocked
    table = receptive_field(stack, 50)
    assert table.size == (31,) and table.jump == (1,) and table.start == (-30,)  # 1 + 2 * (1 + 2 + 4 + 8)
    assert table[-1].output_size == (50,) and "ConstantPad1d" in str(table)
    for t in (0, 20, 49):  # the gradient of output t reaches exactly inputs t-30 .. t (clipped at 0)
        x = torch.randn(1, 1, 50, dtype=torch.float64, requires_grad=True)
        stack.double()(x)[0, :, t].sum().backward()
        seen = (x.grad[0, 0] != 0).nonzero()[:, 0]
        (first, last), = table.window(t)
        assert (int(seen.min()), int(seen.max())) == (max(first, 0), last) == (max(t - 30, 0), t)


def test_receptive_field_1d_pools_and_symmetric_padding():
    stack = nn.Sequential(nn.Conv1d(1, 2, 5, stride=2, padding=1), nn.MaxPool1d(2), nn.Conv1d(2, 2, 3, padding="same"))
    table = receptive_field(stack, 40)
    assert [r.size for r in table] == [(1,), (5,), (7,), (15,)]
    assert table.jump == (4,) and table.start == (-5,)  # padding 1 of the first conv + 1 (x jump 4) of the last
    assert table[-1].output_size == tuple(stack(torch.zeros(1, 1, 40)).shape[-1:])
    with pytest.raises(ShapeError, match="needs 1 index"):
        table.window(0, 0)
    with pytest.raises(TypeError, match="mixes them"):
        receptive_field(nn.Sequential(nn.Conv1d(1, 1, 3), nn.Conv2d(1, 1, 3)))
