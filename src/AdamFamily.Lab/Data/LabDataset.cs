using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>
/// One in-memory split: float32 inputs ([N, C, H, W] images or [N, D] vectors) and int64 labels [N].
/// The dataset owns its tensors (they are detached from any dispose scope) and frees them in <see cref="Dispose"/>.
/// </summary>
public sealed class LabDataset : IDisposable
{
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="inputs"/> and <paramref name="labels"/> after validating them.</summary>
    /// <exception cref="ArgumentException">Wrong dtypes or shapes, mismatched counts, or a label outside [0, numClasses).</exception>
    public LabDataset(string name, Tensor inputs, Tensor labels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        if (inputs.dtype != ScalarType.Float32)
            throw new ArgumentException($"{name}: inputs must be float32, got {inputs.dtype}.", nameof(inputs));
        if (inputs.dim() < 2)
            throw new ArgumentException($"{name}: inputs must be [N, ...] with at least 2 dimensions, got {inputs.dim()}.", nameof(inputs));
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1)
            throw new ArgumentException($"{name}: labels must be a 1-D int64 tensor, got {labels.dtype} with {labels.dim()} dimensions.", nameof(labels));
        if (labels.shape[0] != inputs.shape[0])
            throw new ArgumentException($"{name}: {inputs.shape[0]} inputs but {labels.shape[0]} labels.", nameof(labels));
        if (labels.shape[0] > 0)
        {
            using var minT = labels.min();
            using var maxT = labels.max();
            long min = minT.item<long>(), max = maxT.item<long>();
            if (min < 0 || max >= numClasses)
                throw new ArgumentException($"{name}: labels span [{min}, {max}] but there are {numClasses} classes.", nameof(labels));
        }
        Name = name;
        Inputs = inputs.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        NumClasses = numClasses;
    }

    /// <summary>Human-readable name, e.g. "fashion-mnist/train".</summary>
    public string Name { get; }

    /// <summary>float32 inputs, [N, C, H, W] or [N, D].</summary>
    public Tensor Inputs { get; }

    /// <summary>int64 class indices, [N].</summary>
    public Tensor Labels { get; }

    /// <summary>Number of classes; every label is in [0, NumClasses).</summary>
    public int NumClasses { get; }

    /// <summary>Number of records N.</summary>
    public int Count => (int)Labels.shape[0];

    /// <summary>Shape of one record (Inputs.shape without the leading N).</summary>
    public long[] ExampleShape => Inputs.shape[1..];

    /// <summary>A new dataset holding copies of the first <paramref name="count"/> records (independent lifetime).</summary>
    public LabDataset Subset(int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count < 0 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"{Name}: asked for {count} records, have {Count}.");
        using var scope = NewDisposeScope();
        var x = Inputs.narrow(0, 0, count).clone();
        var y = Labels.narrow(0, 0, count).clone();
        return new LabDataset($"{Name}[:{count}]", x, y, NumClasses);
    }

    /// <summary>A new dataset holding copies of records [<paramref name="start"/>, start + <paramref name="count"/>) (independent lifetime).</summary>
    public LabDataset Slice(int start, int count, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"{Name}: asked for records {start}..{start + count - 1}, have {Count}.");
        using var scope = NewDisposeScope();
        var x = Inputs.narrow(0, start, count).clone();
        var y = Labels.narrow(0, start, count).clone();
        return new LabDataset(name, x, y, NumClasses);
    }

    /// <summary>
    /// The record order for one epoch: a pure function of (<paramref name="seed"/>, <paramref name="epoch"/>)
    /// when shuffling, the identity otherwise.
    /// </summary>
    public int[] BatchOrder(int epoch, long seed, bool shuffle)
    {
        if (!shuffle) return Enumerable.Range(0, Count).ToArray();
        return new DeterministicRng(seed, stream: epoch).Permutation(Count);
    }

    /// <summary>
    /// Mini-batches (x, y) for one epoch in <see cref="BatchOrder"/> order; the last partial batch is kept.
    /// Every yielded tensor is a fresh copy owned by the caller (dispose it, or enumerate inside a dispose scope).
    /// </summary>
    public IEnumerable<(Tensor X, Tensor Y)> Batches(int epoch, int batchSize, long seed, bool shuffle = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return Iterate(BatchOrder(epoch, seed, shuffle), batchSize, shuffle);
    }

    private IEnumerable<(Tensor X, Tensor Y)> Iterate(int[] order, int batchSize, bool shuffle)
    {
        for (int start = 0; start < order.Length; start += batchSize)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int len = Math.Min(batchSize, order.Length - start);
            Tensor x, y;
            if (shuffle)
            {
                var idx = new long[len];
                for (int i = 0; i < len; i++) idx[i] = order[start + i];
                using var index = tensor(idx, ScalarType.Int64);
                x = Inputs.index_select(0, index);
                y = Labels.index_select(0, index);
            }
            else
            {
                // Copies, so a caller's in-place op can never corrupt the dataset.
                using var xv = Inputs.narrow(0, start, len);
                using var yv = Labels.narrow(0, start, len);
                x = xv.clone();
                y = yv.clone();
            }
            yield return (x, y);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Inputs.Dispose();
        Labels.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Count} x [{string.Join(", ", ExampleShape)}], {NumClasses} classes";
}
