using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// VGG-11 with BatchNorm, CIFAR variant: conv config 64,M,128,M,256,256,M,512,512,M,512,512,M (3×3 convs,
/// BN, ReLU), adaptive average pool to 1×1, Linear(512, classes).
/// Max-pools use ceil mode so 28×28 inputs reach 1×1 too (28→14→7→4→2→1); for 32×32 and other sizes
/// that halve evenly this is identical to floor mode.
/// Initialisation follows torchvision's VGG: convs kaiming_normal(fan_out, relu) with zero bias,
/// BatchNorm weight 1 / bias 0, Linear weight normal(0, 0.01) with zero bias.
/// </summary>
public sealed class Vgg11Bn : Module<Tensor, Tensor>
{
    private static readonly int[] Config = [64, -1, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1]; // -1 = max-pool

    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d pool;
    private readonly Linear classifier;

    /// <summary>Builds VGG-11-BN for <paramref name="inChannels"/>-channel images.</summary>
    public Vgg11Bn(int inChannels, int classes) : base(nameof(Vgg11Bn))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        int channels = inChannels;
        foreach (int v in Config)
        {
            int i = modules.Count;
            if (v < 0)
            {
                modules.Add(($"{i}", MaxPool2d(kernel_size: 2, stride: 2, ceil_mode: true)));
                continue;
            }
            modules.Add(($"{i}", Conv2d(channels, v, kernel_size: 3, padding: 1)));
            modules.Add(($"{i + 1}", BatchNorm2d(v)));
            modules.Add(($"{i + 2}", ReLU()));
            channels = v;
        }
        features = Sequential(modules);
        pool = AdaptiveAvgPool2d(1);
        classifier = Linear(512, classes);
        RegisterComponents();

        foreach (var m in this.modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
                    if (conv.bias is not null) init.zeros_(conv.bias);
                    break;
                case BatchNorm2d bn:
                    init.ones_(bn.weight); init.zeros_(bn.bias);
                    break;
                case Linear lin:
                    init.normal_(lin.weight, 0, 0.01);
                    if (lin.bias is not null) init.zeros_(lin.bias);
                    break;
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
}
