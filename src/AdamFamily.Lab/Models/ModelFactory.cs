using static TorchSharp.torch;

namespace AdamFamily.Lab.Models;

/// <summary>Builds the lab's models by name.</summary>
public static class ModelFactory
{
    /// <summary>Valid model names: mlp, cnn, cnn-bn, resnet18, resnet34, vgg11, densenet121.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp", "cnn", "cnn-bn", "resnet18", "resnet34", "vgg11", "densenet121"];

    /// <summary>Hidden widths of the "mlp" model (the reference 784-256-256-10 network on Fashion-MNIST).</summary>
    public static IReadOnlyList<int> MlpHidden { get; } = [256, 256];

    /// <summary>Builds model <paramref name="name"/> (case-insensitive) for square images, using torch's current RNG state.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid names.</exception>
    public static nn.Module<Tensor, Tensor> Create(string name, int inChannels, int imageSize, int classes)
    {
        return Canonical(name) switch
        {
            "mlp" => new Mlp(inChannels * imageSize * imageSize, [.. MlpHidden], classes),
            "cnn" => new SmallCnn(inChannels, imageSize, classes),
            "cnn-bn" => new SmallCnn(inChannels, imageSize, classes, 16, 32, batchNorm: true),
            "resnet18" => ResNet.ResNet18(inChannels, classes),
            "resnet34" => ResNet.ResNet34(inChannels, classes),
            "vgg11" => new Vgg11Bn(inChannels, classes),
            "densenet121" => new DenseNet121(inChannels, classes),
            var other => throw new InvalidOperationException($"Model '{other}' is listed but not built."),
        };
    }

    /// <summary>
    /// Seeds torch's global RNG with <paramref name="seed"/> right before building, so the same seed gives
    /// bit-identical initial weights. Nothing else is restored: the global RNG is left advanced afterwards.
    /// Seeded builds are serialised with each other; code on another thread drawing from torch's global
    /// generator at the same time would still change the weights (the generator is process-wide).
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(string name, int inChannels, int imageSize, int classes, long seed)
    {
        Canonical(name); // an unknown name throws before the RNG is touched
        lock (SeededBuild)
        {
            manual_seed(seed);
            return Create(name, inChannels, imageSize, classes);
        }
    }

    /// <summary>Serialises seeded builds (also of <see cref="LstmLanguageModel"/>): manual_seed then construction, uninterrupted.</summary>
    internal static readonly Lock SeededBuild = new();

    private static string Canonical(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant();
        if (!Names.Contains(key))
            throw new ArgumentException($"Unknown model '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name));
        return key;
    }
}
