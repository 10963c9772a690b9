using AdamFamily.Lab.Data;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

public class TransformsTests
{
    /// <summary>A batch whose every pixel value is unique and non-zero, so crops and flips are recognisable.</summary>
    private static Tensor Batch(int n = 6, int c = 2, int h = 5, int w = 7) =>
        arange(1, 1 + n * c * h * w, ScalarType.Float32).view(n, c, h, w);

    [Fact]
    public void RandomCropIsDeterministicPerSeed()
    {
        using var x = Batch();
        using var a = Transforms.RandomCrop(x, 2, seed: 11);
        using var b = Transforms.RandomCrop(x, 2, seed: 11);
        using var c = Transforms.RandomCrop(x, 2, seed: 12);
        Assert.Equal(x.shape, a.shape);
        Assert.True(a.SameAs(b));
        Assert.False(a.SameAs(c));
    }

    [Fact]
    public void CropAtCentreOffsetIsIdentityAndAtZeroShiftsInZeros()
    {
        using var x = Batch();
        const int p = 2;
        int n = (int)x.shape[0];
        using var same = Transforms.Crop(x, p, Enumerable.Repeat(p, n).ToArray(), Enumerable.Repeat(p, n).ToArray());
        Assert.True(same.SameAs(x));

        using var corner = Transforms.Crop(x, p, new int[n], new int[n]);
        Assert.Equal(x.shape, corner.shape);
        // Offset 0 of the padded image: the image moves down-right by p, zeros fill the top rows and left columns.
        using var moved = corner[.., .., p.., p..];
        using var source = x[.., .., ..^p, ..^p];
        Assert.True(moved.SameAs(source));
        using var top = corner[.., .., ..p, ..];
        using var left = corner[.., .., .., ..p];
        Assert.Equal(0, top.count_nonzero().item<long>());
        Assert.Equal(0, left.count_nonzero().item<long>());
    }

    [Fact]
    public void CropMatchesNaivePerImageSlicing()
    {
        using var x = Batch();
        const int p = 3;
        int[] tops = [0, 6, 3, 1, 5, 2], lefts = [6, 0, 3, 4, 1, 2];
        using var got = Transforms.Crop(x, p, tops, lefts);
        using var padded = nn.functional.pad(x, [p, p, p, p]);
        for (int i = 0; i < tops.Length; i++)
        {
            using var want = padded[i, .., tops[i]..(tops[i] + 5), lefts[i]..(lefts[i] + 7)];
            using var have = got[i];
            Assert.True(have.SameAs(want), $"image {i}");
        }
    }

    [Fact]
    public void FlipIsDeterministicPerSeedAndFlipsWholeImages()
    {
        using var x = Batch(n: 16);
        using var a = Transforms.RandomHorizontalFlip(x, seed: 3);
        using var b = Transforms.RandomHorizontalFlip(x, seed: 3);
        using var c = Transforms.RandomHorizontalFlip(x, seed: 4);
        Assert.True(a.SameAs(b));
        Assert.False(a.SameAs(c));
        using var mirrored = x.flip(3);
        int flipped = 0;
        for (int i = 0; i < 16; i++)
        {
            using var ai = a[i];
            using var xi = x[i];
            using var mi = mirrored[i];
            bool isFlipped = ai.SameAs(mi);
            Assert.True(isFlipped || ai.SameAs(xi));
            flipped += isFlipped ? 1 : 0;
        }
        Assert.InRange(flipped, 1, 15); // p = 0.5 over 16 images
    }

    [Fact]
    public void FlipProbabilityExtremesAndExplicitFlags()
    {
        using var x = Batch(n: 3);
        using var none = Transforms.RandomHorizontalFlip(x, seed: 1, p: 0);
        using var all = Transforms.RandomHorizontalFlip(x, seed: 1, p: 1);
        using var mirrored = x.flip(3);
        Assert.True(none.SameAs(x));
        Assert.True(all.SameAs(mirrored));
        using var some = Transforms.HorizontalFlip(x, [false, true, false]);
        using var s1 = some[1];
        using var m1 = mirrored[1];
        using var s0 = some[0];
        using var x0 = x[0];
        Assert.True(s1.SameAs(m1));
        Assert.True(s0.SameAs(x0));
    }

    [Fact]
    public void NormalizeUsesPerChannelMeanAndStd()
    {
        using var x = ones(2, 3, 2, 2);
        using var y = Transforms.Normalize(x, [0.5f, 0.25f, 1f], [0.5f, 0.25f, 2f]);
        Assert.Equal(x.shape, y.shape);
        Assert.Equal(1f, y[1, 0, 1, 1].item<float>());
        Assert.Equal(3f, y[0, 1, 0, 0].item<float>());
        Assert.Equal(0f, y[1, 2, 0, 1].item<float>());
        Assert.Equal(1f, x[0, 0, 0, 0].item<float>()); // input untouched
        Assert.Throws<ArgumentException>(() => Transforms.Normalize(x, [0.5f], [0.5f]));
    }

    [Fact]
    public void DatasetConstants()
    {
        Assert.Equal([0.2860f], Transforms.FashionMnistMean);
        Assert.Equal([0.3530f], Transforms.FashionMnistStd);
        Assert.Equal(3, Transforms.Cifar10Mean.Length);
        Assert.Equal(3, Transforms.Cifar10Std.Length);
        Assert.Equal(3, Transforms.Cifar100Mean.Length);
        Assert.Equal(3, Transforms.Cifar100Std.Length);
        Transforms.Cifar10Mean[0] = 9; // callers get copies
        Assert.Equal(0.4914f, Transforms.Cifar10Mean[0]);
    }
}
