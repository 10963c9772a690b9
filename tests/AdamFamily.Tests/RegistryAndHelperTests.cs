using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Tests;

public class RegistryTests
{
    [Theory]
    [InlineData("adamd", typeof(AdamD))]
    [InlineData("AdamW", typeof(AdamW))]
    [InlineData("NADAMD", typeof(NAdamD))]
    [InlineData("sgd", typeof(SGD))]
    [InlineData("yogi", typeof(Yogi))]
    public void CreateByName_IsCaseInsensitive(string name, Type type)
    {
        using var opt = Optimizers.Create(name, Fixture.Parameters());
        Assert.IsType(type, opt);
    }

    [Fact]
    public void EveryPreset_HasAClassOfItsNameAndWorks()
    {
        foreach (var p in Presets.All)
        {
            Assert.Equal(p.Name, p.Type.Name.ToLowerInvariant());
            var ps = Fixture.Parameters();
            var before = Fixture.Values(ps);
            using var opt = Optimizers.Create(p.Name, ps, Fixture.OptionsFor(p.Name));
            Assert.IsType(p.Type, opt);
            Fixture.Run(opt, ps, 0, 2);
            var after = Fixture.Values(ps);
            Assert.All(ps, q => Assert.Equal(2, opt.StateOf(q).Step));
            Assert.All(after.SelectMany(v => v), v => Assert.True(double.IsFinite(v), $"{p.Name}: non-finite parameter"));
            Assert.True(before.Zip(after).All(t => !t.First.SequenceEqual(t.Second)), $"{p.Name}: a parameter did not move in two steps");
        }
    }

    [Fact]
    public void KeyValueString_SetsOptions()
    {
        using var opt = Optimizers.Create("afmdw", Fixture.Parameters(),
            "lr=2e-3, betas=(0.8,0.99), eps=1e-7, weight_decay=1e-4, estimator=yogi, nesterov=true, eps_mode=outside, decay=decoupled, bias_correction=false, theta_schedule=diminishing T=5 p=0.7, nonfinite=skip");
        var o = opt.Groups[0].Options;
        Assert.Equal(2e-3, o.LearningRate); Assert.Equal(0.8, o.Beta1); Assert.Equal(0.99, o.Beta2); Assert.Equal(1e-7, o.Eps);
        Assert.Equal(1e-4, o.WeightDecay); Assert.Equal("yogi", o.Estimator); Assert.Equal(Direction.Nesterov, o.Direction);
        Assert.Equal(EpsMode.Outside, o.EpsMode); Assert.Equal(DecayPlacement.Decoupled, o.Decay); Assert.False(o.BiasCorrection);
        Assert.Equal(MomentSchedule.Diminishing(5, 0.7), o.ThetaSchedule);
        Assert.Equal(NonFinitePolicy.Skip, opt.NonFinitePolicy);
    }

    [Fact]
    public void Dictionary_SetsPyTorchOptions()
    {
        using var opt = Optimizers.Create("adam", Fixture.Parameters(), new Dictionary<string, string> { ["amsgrad"] = "true", ["decoupled_weight_decay"] = "true", ["weight_decay"] = "0.01" });
        Assert.Equal("amsgrad", opt.Groups[0].Options.Estimator);
        Assert.Equal(DecayPlacement.Decoupled, opt.Groups[0].Options.Decay);
    }

    [Fact]
    public void SgdNesterov_SetsTheSgdFlag()
    {
        using var opt = Optimizers.Create("sgd", Fixture.Parameters(), "momentum=0.9,nesterov=true");
        Assert.True(opt.Groups[0].Options.Nesterov);
        Assert.Equal(Direction.Sgd, opt.Groups[0].Options.Direction);
    }

    [Fact]
    public void UnknownNames_KeysAndValues_AreNamedInTheError()
    {
        var e1 = Assert.Throws<ArgumentException>(() => Optimizers.Create("adamx", Fixture.Parameters()));
        Assert.Contains("adamx", e1.Message); Assert.Contains("adamd", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Optimizers.Create("adamw", Fixture.Parameters(), "momentum=0.9"));
        Assert.Contains("momentum", e2.Message); Assert.Contains("adamw", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => Optimizers.Create("adamd", Fixture.Parameters(), "lr=fast"));
        Assert.Contains("lr", e3.Message); Assert.Contains("fast", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => Optimizers.Create("adamd", Fixture.Parameters(), "estimator=lion"));
        Assert.Contains("lion", e4.Message);
        Assert.Throws<ArgumentException>(() => Optimizers.Create("adamd", Fixture.Parameters(), "lr"));
    }

    [Fact]
    public void ParseArm_SplitsNameAndOptions()
    {
        var (name, opts) = Optimizers.ParseArm("adamd:lr=1e-3,weight_decay=5e-4");
        Assert.Equal("adamd", name);
        Assert.Equal(new[] { "lr", "weight_decay" }, opts.Select(o => o.Key));
    }
}

public class NoDecayHelperTests
{
    private sealed class Net : Module<Tensor, Tensor>
    {
        public readonly Module<Tensor, Tensor> conv = Conv2d(1, 4, 3), bn = BatchNorm2d(4), fc = Linear(4, 3), ln = LayerNorm(3);
        public readonly Embedding embedding = Embedding(10, 3);
        public Net() : base("net") { RegisterComponents(); }
        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void BiasesNormLayersAndOneDimensionalParameters_GetNoDecay()
    {
        using var net = new Net();
        var groups = ParameterGroups.DecayAndNoDecay(net, noDecayPatterns: new[] { "embed*" });
        Assert.Equal(2, groups.Length);
        Assert.Equal(new[] { "conv.weight", "fc.weight" }, groups[0].Names!.OrderBy(n => n));
        Assert.Equal(new[] { "bn.bias", "bn.weight", "conv.bias", "embedding.weight", "fc.bias", "ln.bias", "ln.weight" }, groups[1].Names!.OrderBy(n => n));
        using var opt = new AdamD(groups);
        Assert.Equal(5e-4, opt.Groups[0].Options.WeightDecay);
        Assert.Equal(0.0, opt.Groups[1].Options.WeightDecay);
    }

    [Fact]
    public void ExplicitWeightDecay_IsSetOnTheDecayGroup()
    {
        using var net = new Net();
        using var opt = new AdamW(ParameterGroups.DecayAndNoDecay(net, weightDecay: 0.05));
        Assert.Equal(0.05, opt.Groups[0].Options.WeightDecay);
    }
}
