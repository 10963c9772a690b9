using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// Small CNN of two blocks, then a Linear to logits. "cnn": [conv3×3(32)+ReLU+maxpool2] → [conv3×3(64)+ReLU+maxpool2].
/// "cnn-bn": [conv3×3(16, no bias)+BatchNorm2d+ReLU+maxpool2] → [conv3×3(32, no bias)+BatchNorm2d+ReLU+maxpool2] —
/// with batch normalisation the convolution weights are scale-invariant, so weight decay acts on them through the
/// effective learning rate; half the width of "cnn" so a tuned study fits on 2 CPU cores.
/// Works for any image size divisible by 4 after flooring (28×28 → 7×7, 32×32 → 8×8). PyTorch default initialisation
/// (BatchNorm: weight 1, bias 0).
/// </summary>
public sealed class SmallCnn : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear classifier;

    /// <summary>Builds "cnn" (32 and 64 channels, no normalisation) for <paramref name="inChannels"/>-channel square images of side <paramref name="imageSize"/>.</summary>
    public SmallCnn(int inChannels, int imageSize, int classes) : this(inChannels, imageSize, classes, 32, 64, batchNorm: false) { }

    /// <summary>
    /// Builds the two-block CNN with <paramref name="width1"/> and <paramref name="width2"/> channels; with
    /// <paramref name="batchNorm"/> each convolution loses its bias and is followed by a BatchNorm2d.
    /// </summary>
    public SmallCnn(int inChannels, int imageSize, int classes, int width1, int width2, bool batchNorm) : base(nameof(SmallCnn))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 4);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width2);
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        int channels = inChannels, block = 1;
        foreach (int width in new[] { width1, width2 })
        {
            layers.Add(($"conv{block}", Conv2d(channels, width, kernel_size: 3, padding: 1, bias: !batchNorm)));
            if (batchNorm) layers.Add(($"bn{block}", BatchNorm2d(width)));
            layers.Add(($"relu{block}", ReLU()));
            layers.Add(($"pool{block}", MaxPool2d(kernel_size: 2)));
            channels = width;
            block++;
        }
        layers.Add(("flatten", Flatten()));
        features = Sequential(layers.ToArray());
        int side = imageSize / 2 / 2;
        classifier = Linear((long)width2 * side * side, classes);
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
