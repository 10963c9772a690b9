using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// Small CNN: [conv3×3(32)+ReLU+maxpool2] → [conv3×3(64)+ReLU+maxpool2] → Linear to logits.
/// Works for any image size divisible by 4 after flooring (28×28 → 7×7, 32×32 → 8×8). PyTorch default initialisation.
/// </summary>
public sealed class SmallCnn : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear classifier;

    /// <summary>Builds the CNN for <paramref name="inChannels"/>-channel square images of side <paramref name="imageSize"/>.</summary>
    public SmallCnn(int inChannels, int imageSize, int classes) : base(nameof(SmallCnn))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 4);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        features = Sequential(
            ("conv1", Conv2d(inChannels, 32, kernel_size: 3, padding: 1)),
            ("relu1", ReLU()),
            ("pool1", MaxPool2d(kernel_size: 2)),
            ("conv2", Conv2d(32, 64, kernel_size: 3, padding: 1)),
            ("relu2", ReLU()),
            ("pool2", MaxPool2d(kernel_size: 2)),
            ("flatten", Flatten()));
        int side = imageSize / 2 / 2;
        classifier = Linear(64L * side * side, classes);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var f = features.forward(input);
        return classifier.forward(f);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) { features.Dispose(); classifier.Dispose(); }
        base.Dispose(disposing);
    }
}
