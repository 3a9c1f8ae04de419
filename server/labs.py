"""The registry of lenses and labs: one list feeds the home page, the navigation and the catalog.

A lab whose template ``templates/labs/<slug>.html`` does not exist yet is shown as coming,
never as a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "labs"


@dataclass(frozen=True)
class Lab:
    slug: str
    title: str
    summary: str

    @property
    def ready(self) -> bool:
        """A lab is ready when its page exists; until then the map shows it as coming."""
        return (TEMPLATE_DIR / f"{self.slug}.html").is_file()


@dataclass(frozen=True)
class Lens:
    key: str
    title: str
    ml: str  # where this math appears in ML, in one line
    labs: tuple[Lab, ...]


LENSES: tuple[Lens, ...] = (
    Lens(
        "linear-algebra",
        "Linear algebra",
        "Every layer is a matrix product; PCA, LoRA, attention and embeddings are its eigen- and "
        "singular-value stories.",
        (
            Lab("matrix-transform", "Matrix as a transformation", "Watch a 2×2 matrix bend the plane along its eigenvectors."),
            Lab("pca", "Eigenvectors and PCA", "Principal axes of a correlated cloud, and what projecting onto them keeps."),
            Lab("svd", "SVD and low-rank approximation", "An image rebuilt from its top-k singular values."),
            Lab("lora", "LoRA", "Why a low-rank update B·A is enough to fine-tune a big weight matrix."),
            Lab("pseudoinverse", "Least squares and the pseudoinverse", "Fitting lines when the features are nearly collinear."),
            Lab("pagerank", "PageRank by power iteration", "The dominant eigenvector of a link graph, step by step."),
            Lab("spectral-clustering", "Spectral clustering", "The Laplacian's Fiedler vector splits two moons where k-means fails."),
            Lab("attention", "Attention as matrix products", "softmax(QKᵀ/√d)·V, with every shape annotated."),
            Lab("convolution", "Convolution as a Toeplitz matrix", "A convolution is a structured matrix product."),
            Lab("embeddings", "Embeddings from co-occurrence", "Word vectors from a PPMI matrix and a truncated SVD."),
        ),
    ),
    Lens(
        "calculus",
        "Calculus",
        "Backpropagation is the chain rule run backwards; gradients vanish or explode as their "
        "products grow with depth.",
        (
            Lab("derivatives", "Derivatives and the tangent line", "Finite differences converge, then rounding bites."),
            Lab("backprop", "Chain rule and backpropagation", "A typed expression becomes a graph; gradients flow back node by node."),
            Lab("autodiff", "Symbolic, automatic, numeric", "SymPy, autograd and finite differences side by side."),
            Lab("gradient-flow", "Vanishing and exploding gradients", "Per-layer gradient norms of a deep net at initialization."),
            Lab("stability", "Stability and curvature", "Step size against 2/λ_max: converge, oscillate, diverge."),
        ),
    ),
    Lens(
        "probability",
        "Probability",
        "Models output distributions; losses are log-likelihoods; mini-batch gradients are "
        "sample means.",
        (
            Lab("distributions", "Distributions", "Densities, samples, moments and entropy of the families ML uses."),
            Lab("bayes", "Bayes' theorem", "A posterior sharpens flip by flip."),
            Lab("mle", "Maximum likelihood", "The log-likelihood surface, and why NLL is cross-entropy."),
            Lab("clt", "CLT and mini-batches", "Means of n draws turn Gaussian; gradient noise falls as 1/B."),
            Lab("bias-variance", "Bias–variance", "Polynomial fits on many resamples: bias², variance and noise."),
            Lab("monte-carlo", "Monte Carlo", "Estimates by sampling, with the 1/√n error slope."),
        ),
    ),
    Lens(
        "optimization",
        "Optimization",
        "Training is minimizing a loss: SGD, momentum and Adam are update rules on its gradient, "
        "shaped by learning-rate schedules.",
        (
            Lab("gradient-descent", "Gradient descent and optimizers", "SGD, momentum, RMSprop, Adam and L-BFGS race down Rosenbrock's valley."),
            Lab("lr-schedules", "Learning-rate schedules", "Constant, step, cosine, warmup and one-cycle, and what they do to a run."),
            Lab("landscapes", "Convex vs non-convex", "Loss slices through weight space, and escaping a saddle."),
            Lab("regularization", "Regularization geometry", "The L2 ball, the L1 diamond, and why L1 lands on an axis."),
            Lab("dropout", "Dropout", "Many thinned networks, and the uncertainty their spread shows."),
        ),
    ),
    Lens(
        "information",
        "Information theory",
        "Cross-entropy is the classification loss, KL divergence regularizes VAEs and distills "
        "teachers into students.",
        (
            Lab("entropy", "Entropy", "Bits of surprise: a fair coin is one bit."),
            Lab("kl-divergence", "Cross-entropy and KL divergence", "H(p, q) = H(p) + KL(p‖q), and why KL is not symmetric."),
            Lab("softmax", "Softmax and temperature", "Logits to probabilities, sharpened or softened by T."),
        ),
    ),
)

TRAINING = Lens(
    "training",
    "Training lab",
    "Where all five lenses meet: a small network learns live, with the math of every part named.",
    (Lab("training", "Train a network", "Build a small network, run it on a Dask worker, watch it learn."),),
)


def all_labs() -> list[tuple[Lens, Lab]]:
    return [(lens, lab) for lens in (*LENSES, TRAINING) for lab in lens.labs]


def find_lab(slug: str) -> tuple[Lens, Lab] | None:
    for lens, lab in all_labs():
        if lab.slug == slug:
            return lens, lab
    return None


