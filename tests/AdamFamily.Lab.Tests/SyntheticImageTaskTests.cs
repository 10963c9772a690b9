using AdamFamily.Lab.Data;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

[Collection(TorchRngCollection.Name)]
public class SyntheticImageTaskTests
{
    private static SyntheticImageOptions Small(long seed) =>
        new() { Seed = seed, TrainCount = 64, TestCount = 16, ImageSize = 12, Channels = 2, NumClasses = 5 };

    [Fact]
    public void SameSeedSameDataDifferentSeedDifferentData()
    {
        using var a = SyntheticImageTask.Create(Small(7));
        using var b = SyntheticImageTask.Create(Small(7));
        using var c = SyntheticImageTask.Create(Small(8));
        Assert.True(a.Train.Inputs.SameAs(b.Train.Inputs));
        Assert.True(a.Train.Labels.SameAs(b.Train.Labels));
        Assert.True(a.Test.Inputs.SameAs(b.Test.Inputs));
        Assert.False(a.Train.Inputs.SameAs(c.Train.Inputs));
        Assert.False(a.Train.Inputs.narrow(0, 0, 16).SameAs(a.Test.Inputs)); // train and test are different draws
    }

    [Fact]
    public void ShapesRangesAndLabels()
    {
        using var t = SyntheticImageTask.Create(Small(1));
        Assert.Equal(new long[] { 64, 2, 12, 12 }, t.Train.Inputs.shape);
        Assert.Equal(new long[] { 16, 2, 12, 12 }, t.Test.Inputs.shape);
        Assert.Equal(5, t.NumClasses);
        Assert.Equal((2, 12, 12), (t.Channels, t.Height, t.Width));
        using var min = t.Train.Inputs.min();
        using var max = t.Train.Inputs.max();
        Assert.InRange(min.item<float>(), 0f, 1f);
        Assert.InRange(max.item<float>(), 0f, 1f);
        var labels = t.Train.Labels.data<long>().ToArray();
        Assert.All(labels, l => Assert.InRange(l, 0, 4));
        Assert.True(labels.Distinct().Count() >= 4); // not degenerate
    }

    [Fact]
    public void DefaultTaskIsLearnableButNotTrivial()
    {
        // The documented claim: a 784-256-256-10 MLP beats chance clearly in two epochs but is not perfect.
        using var task = SyntheticImageTask.Create(new SyntheticImageOptions { Seed = 0 });
        using var net = Models.ModelFactory.Create("mlp", task.Channels, task.Height, task.NumClasses, seed: 0);
        using var opt = optim.Adam(net.parameters(), 1e-3);
        for (int epoch = 0; epoch < 2; epoch++)
            foreach (var (x, y) in task.Batches(epoch, 64, seed: 0))
            using (x) using (y) using (NewDisposeScope())
            {
                opt.zero_grad();
                nn.functional.cross_entropy(net.forward(x), y).backward();
                opt.step();
            }
        using (no_grad())
        using (NewDisposeScope())
        {
            double acc = net.forward(task.Test.Inputs).argmax(1).eq(task.Test.Labels).to_type(ScalarType.Float32).mean().item<float>();
            Assert.InRange(acc, 0.35, 0.97);
        }
    }

    [Fact]
    public void ImageTaskBatchesMatchAcrossInstancesWithTheSameSeed()
    {
        var options = new SyntheticImageOptions { TrainCount = 20, TestCount = 4, ImageSize = 8 };
        using var a = SyntheticImageTask.Create(options);
        using var b = SyntheticImageTask.Create(options);
        foreach (var ((xa, ya), (xb, yb)) in a.Batches(1, 6, seed: 9).Zip(b.Batches(1, 6, seed: 9)))
        {
            using (xa) using (ya) using (xb) using (yb)
            {
                Assert.True(xa.SameAs(xb));
                Assert.True(ya.SameAs(yb));
            }
        }
    }
}
