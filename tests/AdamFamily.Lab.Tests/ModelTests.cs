using AdamFamily.Lab.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

[Collection(TorchRngCollection.Name)]
public class ModelTests
{
    public static TheoryData<string, int, int> Shapes()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in new[] { "mlp", "cnn", "cnn-bn", "resnet18", "vgg11" })
            foreach (int channels in new[] { 1, 3 })
                foreach (int size in new[] { 28, 32 })
                    data.Add(name, channels, size);
        // The deep ones are slower: one configuration each.
        data.Add("resnet34", 3, 32);
        data.Add("densenet121", 3, 32);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardGivesBatchByClasses(string name, int channels, int size)
    {
        const int classes = 7;
        using var model = ModelFactory.Create(name, channels, size, classes, seed: 1);
        using var _ = no_grad();
        using var x = rand(2, channels, size, size);
        using var y = model.forward(x);
        Assert.Equal(new long[] { 2, classes }, y.shape);
        using var finite = y.isfinite().all();
        Assert.True(finite.item<bool>());
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("cnn-bn")]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("vgg11")]
    [InlineData("densenet121")]
    public void SameSeedSameWeightsDifferentSeedDifferentWeights(string name)
    {
        using var a = ModelFactory.Create(name, 3, 32, 10, seed: 5);
        manual_seed(999); // whatever happened in between must not matter
        using var b = ModelFactory.Create(name, 3, 32, 10, seed: 5);
        using var c = ModelFactory.Create(name, 3, 32, 10, seed: 6);
        var pa = a.named_parameters().ToList();
        var pb = b.named_parameters().ToList();
        var pc = c.named_parameters().ToList();
        Assert.Equal(pa.Select(p => p.name), pb.Select(p => p.name));
        Assert.All(pa.Zip(pb), t => Assert.True(t.First.parameter.SameAs(t.Second.parameter), t.First.name));
        Assert.Contains(pa.Zip(pc), t => !t.First.parameter.SameAs(t.Second.parameter));
    }

    private static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Fact]
    public void ParameterCountsMatchTheReferenceArchitectures()
    {
        // 784-256-256-10: 784·256+256 + 256·256+256 + 256·10+10.
        using (var mlp = ModelFactory.Create("mlp", 1, 28, 10)) Assert.Equal(269_322, Count(mlp));
        // cnn: conv 1→32 (288 + 32 bias), conv 32→64 (18 432 + 64), Linear 64·7·7→10 (31 360 + 10).
        using (var cnn = ModelFactory.Create("cnn", 1, 28, 10)) Assert.Equal(320 + 18_496 + 31_370, Count(cnn));
        // cnn-bn: conv 1→16 (144, no bias), BN 16 (32), conv 16→32 (4 608, no bias), BN 32 (64), Linear 32·7·7→10 (15 680 + 10).
        using (var cnnBn = ModelFactory.Create("cnn-bn", 1, 28, 10)) Assert.Equal(144 + 32 + 4_608 + 64 + 15_690, Count(cnnBn));
        // Well-known sizes of the CIFAR-10 variants (3 input channels, 10 classes).
        using (var r18 = ModelFactory.Create("resnet18", 3, 32, 10)) Assert.Equal(11_173_962, Count(r18));
        using (var r34 = ModelFactory.Create("resnet34", 3, 32, 10)) Assert.Equal(21_282_122, Count(r34));
        using (var vgg = ModelFactory.Create("vgg11", 3, 32, 10)) Assert.Equal(9_231_114, Count(vgg));
        using (var dn = ModelFactory.Create("densenet121", 3, 32, 10)) Assert.Equal(6_956_298, Count(dn));
    }

    [Fact]
    public void ResNetAndVggFollowTorchvisionInitialisation()
    {
        using var resnet = ModelFactory.Create("resnet18", 3, 32, 10, seed: 0);
        // kaiming_normal, fan_out, relu: std = sqrt(2 / (out_channels · 3 · 3)).
        var conv = resnet.modules().OfType<Conv2d>().Last(c => c.weight!.shape[0] == 512 && c.weight.shape[2] == 3);
        using var std = conv.weight!.std();
        Assert.InRange(std.item<float>(), 0.98 * Math.Sqrt(2.0 / (512 * 9)), 1.02 * Math.Sqrt(2.0 / (512 * 9)));
        foreach (var bn in resnet.modules().OfType<BatchNorm2d>())
        {
            using var w = bn.weight!.eq(1).all();
            using var b = bn.bias!.eq(0).all();
            Assert.True(w.item<bool>() && b.item<bool>());
        }

        using var vgg = ModelFactory.Create("vgg11", 3, 32, 10, seed: 0);
        var fc = vgg.modules().OfType<Linear>().Single();
        using var fcStd = fc.weight!.std();
        Assert.InRange(fcStd.item<float>(), 0.009, 0.011);
        using var fcBias = fc.bias!.eq(0).all();
        Assert.True(fcBias.item<bool>());
    }

    [Fact]
    public void CnnBn_NormalisesEveryConvolution_WhichThenHasNoBias()
    {
        using var model = ModelFactory.Create("cnn-bn", 1, 28, 10, seed: 0);
        var convs = model.modules().OfType<Conv2d>().ToList();
        Assert.Equal(2, convs.Count);
        Assert.All(convs, c => Assert.Null(c.bias));
        Assert.Equal(new long[] { 16, 32 }, model.modules().OfType<BatchNorm2d>().Select(b => b.weight!.shape[0]).ToArray());
        // A convolution followed by batch norm is scale-invariant (training mode): scaling its weight leaves the logits unchanged.
        model.train();
        using var x = rand(8, 1, 28, 28);
        using var before = model.forward(x);
        using (no_grad()) convs[1].weight!.mul_(3.0);
        using var after = model.forward(x);
        Assert.True(before.allclose(after, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void UnknownNameListsValidNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelFactory.Create("resnet50", 3, 32, 10));
        foreach (var n in ModelFactory.Names) Assert.Contains(n, ex.Message);
        Assert.Throws<ArgumentException>(() => ModelFactory.Create("nope", 3, 32, 10, seed: 1));
    }
}
