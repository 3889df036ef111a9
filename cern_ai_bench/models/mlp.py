"""Reference jet-tagging MLP on the 16 high-level features: 16-64-32-32-5.

Duarte et al., "Fast inference of deep neural networks in FPGAs for particle physics",
JINST 13 (2018) P07027, arXiv:1804.06913, as trained in the hls4ml tutorial
(``fastmachinelearning/hls4ml-tutorial``, part 1): Dense 64-32-32 with ReLU and a Dense output
layer (softmax in the loss), ``lecun_uniform`` kernels, zero biases; 4,389 parameters. The
FastML Science variant (``fastmachinelearning/fastml-science``, jet-classify) adds batch norm
between each Dense and its ReLU (``batch_norm=True``). Both references add an L1 penalty of 1e-4
on the kernels, a regulariser for quantisation-aware FPGA models that this benchmark's float
model does not use (weight decay is ``trainer.weight_decay``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor, nn

__all__ = ["MLP", "MLPConfig"]


@dataclass(frozen=True)
class MLPConfig:
    """Sizes of the high-level-feature MLP.

    Attributes:
        n_features: input features per jet (16 for the hls4ml set).
        n_classes: output logits.
        hidden_dims: widths of the hidden Dense layers.
        batch_norm: Dense -> BatchNorm -> ReLU (FastML Science) instead of Dense -> ReLU.
    """

    n_features: int = 16
    n_classes: int = 5
    hidden_dims: tuple[int, ...] = (64, 32, 32)
    batch_norm: bool = False

    def __post_init__(self) -> None:
        if self.n_features < 1 or self.n_classes < 2 or not self.hidden_dims:
            raise ValueError(
                f"MLPConfig: need n_features >= 1, n_classes >= 2 and at least one hidden layer, "
                f"got {self}"
            )


class MLP(nn.Module):
    """Fully connected classifier on high-level jet features.

    Takes the features as given; fit the standardisation on the training split and prepend it
    with :class:`cern_ai_bench.models.standardize.Standardize` so it travels with the model.
    """

    #: Which canonical input ``forward`` takes (see :mod:`cern_ai_bench.models.builders`).
    inputs: ClassVar[str] = "hlf"

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.n_features
        for dim in config.hidden_dims:
            layers.append(nn.Linear(width, dim))
            if config.batch_norm:
                layers.append(nn.BatchNorm1d(dim))
            layers.append(nn.ReLU())
            width = dim
        self.hidden = nn.Sequential(*layers)
        self.head = nn.Linear(width, config.n_classes)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                # Keras lecun_uniform: U(-sqrt(3 / fan_in), +sqrt(3 / fan_in)); zero bias.
                nn.init.kaiming_uniform_(module.weight, nonlinearity="linear")
                nn.init.zeros_(module.bias)

    def forward(self, hlf: Tensor) -> Tensor:
        """Class logits.

        Args:
            hlf: ``(B, n_features)`` high-level features in the canonical order, standardised.

        Returns:
            ``(B, n_classes)`` logits.
        """
        return self.head(self.hidden(hlf))
