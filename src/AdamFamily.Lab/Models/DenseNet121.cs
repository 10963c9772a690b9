using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// DenseNet-121, CIFAR variant (Huang et al. 2017, DenseNet-BC): growth rate 32, dense blocks of 6, 12, 24, 16
/// bottleneck layers (BN-ReLU-1×1 conv to 4·growth, BN-ReLU-3×3 conv to growth), transitions with compression 0.5
/// (BN-ReLU-1×1 conv, 2×2 average pool), a 3×3 stride-1 stem conv with 2·growth channels and no max-pool,
/// then BN-ReLU, global average pool and Linear.
/// Initialisation follows torchvision's DenseNet: convs kaiming_normal (fan_in, default gain), BatchNorm weight 1 /
/// bias 0, Linear bias 0 (weight left at the PyTorch default).
/// </summary>
public sealed class DenseNet121 : Module<Tensor, Tensor>
{
    private const int Growth = 32;
    private const int BottleneckWidth = 4;
    private static readonly int[] BlockLayers = [6, 12, 24, 16];

    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d pool;
    private readonly Linear classifier;

    /// <summary>Builds DenseNet-121 for <paramref name="inChannels"/>-channel images.</summary>
    public DenseNet121(int inChannels, int classes) : base(nameof(DenseNet121))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        var modules = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv0", Conv2d(inChannels, 2 * Growth, kernel_size: 3, padding: 1, bias: false)),
        };
        int channels = 2 * Growth;
        for (int b = 0; b < BlockLayers.Length; b++)
        {
            modules.Add(($"denseblock{b + 1}", new DenseBlock(BlockLayers[b], channels)));
            channels += BlockLayers[b] * Growth;
            if (b < BlockLayers.Length - 1)
            {
                int outChannels = channels / 2; // compression 0.5
                modules.Add(($"transition{b + 1}", Sequential(
                    ("norm", BatchNorm2d(channels)),
                    ("relu", ReLU()),
                    ("conv", Conv2d(channels, outChannels, kernel_size: 1, bias: false)),
                    ("pool", AvgPool2d(kernel_size: 2, stride: 2)))));
                channels = outChannels;
            }
        }
        modules.Add(("norm5", BatchNorm2d(channels)));
        modules.Add(("relu5", ReLU()));
        features = Sequential(modules);
        pool = AdaptiveAvgPool2d(1);
        classifier = Linear(channels, classes); // 1024 for DenseNet-121
        RegisterComponents();

        foreach (var m in this.modules())
        {
            switch (m)
            {
                case Conv2d conv: init.kaiming_normal_(conv.weight); break;
                case BatchNorm2d bn: init.ones_(bn.weight); init.zeros_(bn.bias); break;
                case Linear lin: if (lin.bias is not null) init.zeros_(lin.bias); break;
            }
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = pool.forward(features.forward(input)).flatten(1);
        return classifier.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) { features.Dispose(); pool.Dispose(); classifier.Dispose(); }
        base.Dispose(disposing);
    }

    /// <summary>Bottleneck layers, each seeing the concatenation of the block input and all earlier outputs.</summary>
    private sealed class DenseBlock : Module<Tensor, Tensor>
    {
        private readonly ModuleList<Module<Tensor, Tensor>> layers = new();

        public DenseBlock(int count, int inChannels) : base(nameof(DenseBlock))
        {
            for (int i = 0; i < count; i++)
            {
                int c = inChannels + i * Growth;
                layers.Add(Sequential(
                    ("norm1", BatchNorm2d(c)),
                    ("relu1", ReLU()),
                    ("conv1", Conv2d(c, BottleneckWidth * Growth, kernel_size: 1, bias: false)),
                    ("norm2", BatchNorm2d(BottleneckWidth * Growth)),
                    ("relu2", ReLU()),
                    ("conv2", Conv2d(BottleneckWidth * Growth, Growth, kernel_size: 3, padding: 1, bias: false))));
            }
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var features = new List<Tensor> { input };
            foreach (var layer in layers)
                features.Add(layer.forward(cat(features, 1)));
            return cat(features, 1).MoveToOuterDisposeScope();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) layers.Dispose();
            base.Dispose(disposing);
        }
    }
}
