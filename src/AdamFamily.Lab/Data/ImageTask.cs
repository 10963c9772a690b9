using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>
/// An image classification task: a train, a test and optionally a validation <see cref="LabDataset"/> with
/// inputs [N, C, H, W] sharing the same record shape and class count. Owns its splits.
/// </summary>
public sealed class ImageTask : IDisposable
{
    /// <summary>Takes ownership of the splits.</summary>
    /// <exception cref="ArgumentException">The splits are not [N, C, H, W] or disagree on shape or class count.</exception>
    public ImageTask(string name, LabDataset train, LabDataset test, LabDataset? validation = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Inputs.dim() != 4)
            throw new ArgumentException($"{name}: image inputs must be [N, C, H, W], got {train.Inputs.dim()} dimensions.", nameof(train));
        if (!train.ExampleShape.SequenceEqual(test.ExampleShape))
            throw new ArgumentException($"{name}: train records are [{string.Join(", ", train.ExampleShape)}] but test records are [{string.Join(", ", test.ExampleShape)}].", nameof(test));
        if (train.NumClasses != test.NumClasses)
            throw new ArgumentException($"{name}: train has {train.NumClasses} classes, test has {test.NumClasses}.", nameof(test));
        if (validation is not null && (!validation.ExampleShape.SequenceEqual(train.ExampleShape) || validation.NumClasses != train.NumClasses))
            throw new ArgumentException($"{name}: the validation split does not match the training split's record shape and classes.", nameof(validation));
        Name = name;
        Train = train;
        Test = test;
        Validation = validation;
    }

    /// <summary>Validation split (held-out training examples) that selection uses instead of test; null if none.</summary>
    public LabDataset? Validation { get; }

    /// <summary>Task name, e.g. "fashion-mnist".</summary>
    public string Name { get; }

    /// <summary>Training split.</summary>
    public LabDataset Train { get; }

    /// <summary>Test split.</summary>
    public LabDataset Test { get; }

    /// <summary>
    /// The value a black (0) pixel has in the inputs, per channel: 0 for raw pixels, (0 − mean)/std after
    /// per-channel normalisation. Random-crop padding uses it, so the padded border is black as in torchvision
    /// (which pads before it normalises). Null means 0.
    /// </summary>
    public float[]? BlackPixel { get; init; }

    /// <summary>Number of classes.</summary>
    public int NumClasses => Train.NumClasses;

    /// <summary>Input channels C.</summary>
    public int Channels => (int)Train.Inputs.shape[1];

    /// <summary>Image height H.</summary>
    public int Height => (int)Train.Inputs.shape[2];

    /// <summary>Image width W.</summary>
    public int Width => (int)Train.Inputs.shape[3];

    /// <summary>Shape of one input record, [C, H, W].</summary>
    public long[] InputShape => Train.ExampleShape;

    /// <summary>
    /// Training mini-batches for one epoch; the order is a pure function of (<paramref name="seed"/>, <paramref name="epoch"/>),
    /// so arms with the same seed see identical batches. See <see cref="LabDataset.Batches"/>.
    /// </summary>
    public IEnumerable<(Tensor X, Tensor Y)> Batches(int epoch, int batchSize, long seed, bool shuffle = true)
        => Train.Batches(epoch, batchSize, seed, shuffle);

    /// <summary>A new task with copies of the first records of each split.</summary>
    public ImageTask Subset(int trainCount, int testCount)
    {
        var train = Train.Subset(trainCount);
        try { return new ImageTask(Name, train, Test.Subset(testCount)) { BlackPixel = BlackPixel }; }
        catch { train.Dispose(); throw; }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
        Validation?.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: train {Train.Count}, {(Validation is null ? "" : $"validation {Validation.Count}, ")}test {Test.Count}, [{Channels}x{Height}x{Width}], {NumClasses} classes";
}
