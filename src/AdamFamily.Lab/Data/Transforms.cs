using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>
/// Batch transforms on float32 [N, C, H, W] tensors: per-channel normalisation and seeded augmentation.
/// Augmentation choices come from <see cref="DeterministicRng"/>, never from torch's global generator,
/// so the same seed gives the same crops and flips in every optimizer arm. Inputs are never modified.
/// Pass a fresh seed per batch, e.g. <c>DeterministicRng.DeriveSeed(seed, epoch, batchIndex)</c>; crop and flip
/// draw from different streams of that seed, so one seed can serve both.
/// </summary>
public static class Transforms
{
    private const long CropStream = 0x43524F50;  // "CROP"
    private const long FlipStream = 0x464C4950;  // "FLIP"

    /// <summary>Fashion-MNIST training-set pixel mean (pixels in [0, 1]).</summary>
    public static float[] FashionMnistMean => [0.2860f];

    /// <summary>Fashion-MNIST training-set pixel standard deviation.</summary>
    public static float[] FashionMnistStd => [0.3530f];

    /// <summary>CIFAR-10 training-set per-channel (R, G, B) mean.</summary>
    public static float[] Cifar10Mean => [0.4914f, 0.4822f, 0.4465f];

    /// <summary>
    /// CIFAR-10 training-set per-channel std over all pixels. (Many CIFAR repositories use
    /// 0.2023, 0.1994, 0.2010 instead, which is an average of per-image stds; these are the dataset stds.)
    /// </summary>
    public static float[] Cifar10Std => [0.2470f, 0.2435f, 0.2616f];

    /// <summary>CIFAR-100 training-set per-channel (R, G, B) mean.</summary>
    public static float[] Cifar100Mean => [0.5071f, 0.4865f, 0.4409f];

    /// <summary>CIFAR-100 training-set per-channel std.</summary>
    public static float[] Cifar100Std => [0.2673f, 0.2564f, 0.2762f];

    /// <summary>Returns (x − mean[c]) / std[c] per channel c of a [N, C, H, W] batch.</summary>
    public static Tensor Normalize(Tensor x, float[] mean, float[] std)
    {
        RequireImages(x);
        long c = x.shape[1];
        if (mean.Length != c || std.Length != c)
            throw new ArgumentException($"Input has {c} channels but mean has {mean.Length} and std has {std.Length} values.");
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException("Every std must be positive.", nameof(std));
        using var scope = NewDisposeScope();
        var m = tensor(mean, [1, c, 1, 1], ScalarType.Float32).to(x.device);
        var s = tensor(std, [1, c, 1, 1], ScalarType.Float32).to(x.device);
        return x.sub(m).div_(s).MoveToOuterDisposeScope();
    }

    /// <summary>The value a black (0) pixel becomes under <see cref="Normalize"/>: (0 − mean[c]) / std[c] per channel.</summary>
    public static float[] BlackAfterNormalisation(float[] mean, float[] std)
        => mean.Zip(std, (m, s) => (0f - m) / s).ToArray();

    /// <summary>
    /// Random crop with constant padding, as in torchvision's RandomCrop(size, padding): pad each side by
    /// <paramref name="padding"/>, then crop back to H×W at an offset drawn per image in [0, 2·padding]².
    /// torchvision pads the raw image with black (0) before normalising; on normalised inputs pass
    /// <paramref name="fill"/> = <see cref="BlackAfterNormalisation"/> for the same images (null pads with 0).
    /// </summary>
    public static Tensor RandomCrop(Tensor x, int padding, long seed, float[]? fill = null)
    {
        RequireImages(x);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        int n = (int)x.shape[0];
        var rng = new DeterministicRng(seed, CropStream);
        var top = new int[n];
        var left = new int[n];
        for (int i = 0; i < n; i++)
        {
            top[i] = rng.NextInt(2 * padding + 1);
            left[i] = rng.NextInt(2 * padding + 1);
        }
        return Crop(x, padding, top, left, fill);
    }

    /// <summary>
    /// Pads by <paramref name="padding"/> pixels of value <paramref name="fill"/>[c] per channel (null: 0) and crops
    /// image i back to H×W starting at row <paramref name="top"/>[i], column <paramref name="left"/>[i] of the padded
    /// image (offset padding,padding is the identity).
    /// </summary>
    public static Tensor Crop(Tensor x, int padding, int[] top, int[] left, float[]? fill = null)
    {
        RequireImages(x);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        if (top.Length != n || left.Length != n)
            throw new ArgumentException($"Need {n} offsets, got {top.Length} top and {left.Length} left.");
        if (top.Concat(left).Any(o => o < 0 || o > 2 * padding))
            throw new ArgumentOutOfRangeException(nameof(top), $"Offsets must be in [0, {2 * padding}].");
        if (fill is not null && fill.Length != c)
            throw new ArgumentException($"Input has {c} channels but the padding fill has {fill.Length} values.", nameof(fill));
        if (padding == 0) return x.clone();

        using var scope = NewDisposeScope();
        // Pad the whole batch once, then two gathers pick each image's rows and columns.
        Tensor padded;
        if (fill is null || fill.All(v => v == 0)) padded = nn.functional.pad(x, [padding, padding, padding, padding]);
        else
        {
            padded = tensor(fill, [1, c, 1, 1], ScalarType.Float32).to(x.device).to_type(x.dtype).expand(n, c, h + 2 * padding, w + 2 * padding).contiguous();
            padded.narrow(2, padding, h).narrow(3, padding, w).copy_(x);
        }
        var rowIdx = tensor(top.Select(v => (long)v).ToArray(), [n, 1, 1, 1], ScalarType.Int64)
                         .add(arange(h, ScalarType.Int64).view(1, 1, h, 1))
                         .expand(n, c, h, w + 2 * padding).to(x.device);
        var colIdx = tensor(left.Select(v => (long)v).ToArray(), [n, 1, 1, 1], ScalarType.Int64)
                         .add(arange(w, ScalarType.Int64).view(1, 1, 1, w))
                         .expand(n, c, h, w).to(x.device);
        var rows = padded.gather(2, rowIdx);   // [N, C, H, W+2p]
        var crop = rows.gather(3, colIdx);     // [N, C, H, W]
        return crop.MoveToOuterDisposeScope();
    }

    /// <summary>Flips each image left–right with probability <paramref name="p"/>, decided per image from <paramref name="seed"/>.</summary>
    public static Tensor RandomHorizontalFlip(Tensor x, long seed, double p = 0.5)
    {
        RequireImages(x);
        int n = (int)x.shape[0];
        var rng = new DeterministicRng(seed, FlipStream);
        var flip = new bool[n];
        for (int i = 0; i < n; i++) flip[i] = rng.NextDouble() < p;
        return HorizontalFlip(x, flip);
    }

    /// <summary>Flips left–right exactly the images i with <paramref name="flip"/>[i] true.</summary>
    public static Tensor HorizontalFlip(Tensor x, bool[] flip)
    {
        RequireImages(x);
        if (flip.Length != x.shape[0])
            throw new ArgumentException($"Need {x.shape[0]} flip flags, got {flip.Length}.", nameof(flip));
        using var scope = NewDisposeScope();
        var mask = tensor(flip, [flip.Length, 1, 1, 1]).to(x.device);
        var result = where(mask, x.flip(3), x);
        return result.MoveToOuterDisposeScope();
    }

    private static void RequireImages(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4)
            throw new ArgumentException($"Expected a [N, C, H, W] batch, got {x.dim()} dimensions.", nameof(x));
    }
}
