using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// Multi-layer perceptron: flattens the input, then Linear+ReLU per hidden layer and a final Linear to logits.
/// PyTorch default initialisation (TorchSharp's Linear already matches it). The reference experiment uses 784-256-256-10.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    /// <summary>Builds an MLP with the given input size (C·H·W), hidden widths and class count.</summary>
    public Mlp(int inputSize, int[] hidden, int classes) : base(nameof(Mlp))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (hidden.Any(h => h <= 0)) throw new ArgumentException("Hidden widths must be positive.", nameof(hidden));

        var modules = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        int width = inputSize;
        for (int i = 0; i < hidden.Length; i++)
        {
            modules.Add(($"fc{i + 1}", Linear(width, hidden[i])));
            modules.Add(($"relu{i + 1}", ReLU()));
            width = hidden[i];
        }
        modules.Add(("out", Linear(width, classes)));
        layers = Sequential(modules);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => layers.forward(input);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) layers.Dispose();
        base.Dispose(disposing);
    }
}
