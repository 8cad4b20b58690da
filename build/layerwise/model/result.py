"""The pipeline's result, as the pages read it: typed, documented, and free of torch, so a
content-only rebuild loads it from the cache without importing PyTorch."""

from dataclasses import dataclass, field


@dataclass
class TextInfo:
    """What the page needs to read text as the build does (sources/text.py makes it)."""

    task: str  # "next-token" | "classify"
    vocabulary: list[str]  # token index -> its character (one code point)
    unknown: int | None  # the unknown token's index, or None when the vocabulary has none
    context: int  # the most tokens a model reads; the page keeps the last `context` of longer text
    examples: list[str]  # held-out texts for the picker, each at most `context` characters


@dataclass
class DatasetInfo:
    """The data as the pages describe it."""

    name: str
    shape: tuple  # (C, H, W) of an image; (context,) of text
    classes: list[str]  # [] for next-token text: its outputs are the vocabulary
    noun: str  # what one example is called: "digit", "garment", "image", "quotation"
    preprocessing: str  # how the page reads a drawing: "fit-and-centre" | "resize" ("" for text)
    n_train: int
    n_test: int
    text: TextInfo | None = None  # None for images

    @property
    def drawable(self) -> bool:
        """Whether a reader can draw an example: ink is one channel, so grey images only (the
        page shows its drawing pad by this; prose may say so: {{ dataset.drawable }})."""
        return self.text is None and self.shape[0] == 1


@dataclass
class LayerInfo:
    """One shown layer: its name, type and output shape (no batch axis). A convolution's learned
    filters, which the page shows beside its maps, are its step's weights (the weights file)."""

    name: str
    type: str
    shape: list[int]
    step: dict | None = None  # how it computes its output: anatomy.Step as a dict
    # A conv or dense layer's units (units.publish): examples kept per unit, crop size, ranked by
    units: dict | None = None


@dataclass
class ModelResult:
    name: str
    title: str
    origin: str  # "trained by this build" or where a brought-in model came from
    metrics: dict  # accuracy, per class, per epoch, confusion, parameters (what prose quotes)
    layers: list[LayerInfo]
    onnx: str  # its path under site/
    templates: list | None = None  # a single linear layer over the pixels: (classes, C*H*W) weights
    mistakes: list[dict] = field(default_factory=list)  # held-out examples it gets wrong
    inner: dict = field(default_factory=dict)  # unshown tensor its steps read -> anatomy.Step as a dict
    gradients: str | None = None  # its gradient graph's path under site/ (gradients.py), if it has one
    no_gradients: str = ""  # why it has none, in words


@dataclass
class BuildResult:
    """Everything the pages need, computed by the pipeline and cached whole."""

    dataset: DatasetInfo
    models: dict[str, ModelResult]
    examples: dict  # the explorer's picker (also written to contract.PATHS["examples"])
    tour: dict  # the Grand Tour's summary: model, epochs, sample size, dims, variance kept
    manifold: dict  # per analysed layer: views and numbers
    files: dict[str, bytes]  # path under the article's folder of site/ -> bytes
    key: str = ""  # the pipeline's cache key: what figures drawn from this result are cached by
    # The stages that do not apply to this kind of data -> what the page cannot show, and why
    # (pipeline.Stage.why_not): e.g. for text, "units", "gradients", "record", "analysis".
    not_shown: dict[str, str] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return self.dataset.classes

    def values(self) -> dict:
        """What prose may quote: {{ metrics.cnn.test_accuracy }}, {{ dataset.noun }}, ..."""
        return {
            "metrics": {name: m.metrics for name, m in self.models.items()},
            # How each layer computes: {{ layers.cnn.pool2.receptive_field.size[0] }}
            "layers": {
                name: {
                    info.name: {"type": info.type, "shape": info.shape, **(info.step or {}), "units": info.units}
                    for info in m.layers
                }
                for name, m in self.models.items()
            },
            "models": self.models,
            "dataset": self.dataset,
            "classes": self.dataset.classes,
            "tour": self.tour,
            "manifold": self.manifold["layers"],
        }
