using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// CIFAR-style ResNet (He et al. 2016 as commonly adapted to 32×32): 3×3 stride-1 stem conv, no max-pool,
/// four stages of BasicBlocks (64, 128, 256, 512 channels; strides 1, 2, 2, 2), global average pool, Linear.
/// Initialisation follows torchvision's ResNet: convs kaiming_normal(fan_out, relu), BatchNorm weight 1 / bias 0,
/// Linear left at the PyTorch default.
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>
{
    private readonly Sequential stem;
    private readonly Sequential layers;
    private readonly AdaptiveAvgPool2d pool;
    private readonly Linear fc;

    /// <summary>
    /// Builds a ResNet with <paramref name="blocks"/>[i] BasicBlocks in stage i; <paramref name="width"/> is the first
    /// stage's channel count (64; later stages double it), smaller only for scaled-down benchmark runs.
    /// </summary>
    public ResNet(string name, int[] blocks, int inChannels, int classes, int width = 64) : base(name)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Length != 4 || blocks.Any(b => b <= 0)) throw new ArgumentException("Need four positive block counts.", nameof(blocks));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);

        stem = Sequential(
            ("conv1", Conv2d(inChannels, width, kernel_size: 3, stride: 1, padding: 1, bias: false)),
            ("bn1", BatchNorm2d(width)),
            ("relu", ReLU()));

        var stages = new List<(string, Module<Tensor, Tensor>)>();
        int[] widths = [width, 2 * width, 4 * width, 8 * width];
        int channels = width;
        for (int s = 0; s < 4; s++)
        {
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = (b == 0 && s > 0) ? 2 : 1;
                stages.Add(($"layer{s + 1}_{b}", new BasicBlock(channels, widths[s], stride)));
                channels = widths[s];
            }
        }
        layers = Sequential(stages);
        pool = AdaptiveAvgPool2d(1);
        fc = Linear(8 * width, classes);
        RegisterComponents();

        foreach (var m in modules())
        {
            if (m is Conv2d conv) init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
            else if (m is BatchNorm2d bn) { init.ones_(bn.weight); init.zeros_(bn.bias); }
        }
    }

    /// <summary>ResNet-18: [2, 2, 2, 2] BasicBlocks.</summary>
    public static ResNet ResNet18(int inChannels, int classes, int width = 64) => new(nameof(ResNet18), [2, 2, 2, 2], inChannels, classes, width);

    /// <summary>ResNet-34: [3, 4, 6, 3] BasicBlocks.</summary>
    public static ResNet ResNet34(int inChannels, int classes) => new(nameof(ResNet34), [3, 4, 6, 3], inChannels, classes);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = layers.forward(stem.forward(input));
        var logits = fc.forward(pool.forward(x).flatten(1));
        return logits.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) { stem.Dispose(); layers.Dispose(); pool.Dispose(); fc.Dispose(); }
        base.Dispose(disposing);
    }

    /// <summary>Two 3×3 conv+BN layers with an identity shortcut (1×1 conv+BN projection when the shape changes).</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly Sequential? downsample;

        public BasicBlock(int inPlanes, int planes, int stride) : base(nameof(BasicBlock))
        {
            conv1 = Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(planes);
            conv2 = Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
            bn2 = BatchNorm2d(planes);
            if (stride != 1 || inPlanes != planes)
                downsample = Sequential(
                    ("0", Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false)),
                    ("1", BatchNorm2d(planes)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var h = functional.relu(bn1.forward(conv1.forward(input)));
            h = bn2.forward(conv2.forward(h));
            var shortcut = downsample is null ? input : downsample.forward(input);
            return functional.relu(h.add_(shortcut)).MoveToOuterDisposeScope();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { conv1.Dispose(); conv2.Dispose(); bn1.Dispose(); bn2.Dispose(); downsample?.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
