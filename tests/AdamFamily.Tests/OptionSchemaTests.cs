using AdamFamily.Rules;

namespace AdamFamily.Tests;

/// <summary>
/// The option schema: what each preset accepts and defaults to (written out here, independently of the
/// declarations), round trips through option text and checkpoints, and descriptions.
/// </summary>
public class OptionSchemaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-schema-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Common = { "lr", "betas", "beta1", "beta2", "eps", "weight_decay", "maximize", "stability_check", "state_precision" };
    private static readonly string[] AfmdwKeys = Common.Concat(new[] { "estimator", "nesterov", "eps_mode", "decay", "bias_correction", "initial_accumulator", "theta_schedule", "tau_schedule" }).ToArray();

    public static IEnumerable<object[]> AcceptedKeys() => new[]
    {
        new object[] { "adamd", AfmdwKeys }, new object[] { "amsgradd", AfmdwKeys }, new object[] { "yogid", AfmdwKeys },
        new object[] { "adabeliefd", AfmdwKeys }, new object[] { "nadamd", AfmdwKeys }, new object[] { "afmdw", AfmdwKeys },
        new object[] { "adam", Common.Append("amsgrad").Append("decoupled_weight_decay").ToArray() },
        new object[] { "adamw", Common.Append("amsgrad").ToArray() },
        new object[] { "nadam", Common.Append("momentum_decay").Append("decoupled_weight_decay").ToArray() },
        new object[] { "nadamw", Common.Append("momentum_decay").ToArray() },
        new object[] { "radam", Common.Append("decoupled_weight_decay").ToArray() },
        new object[] { "radamw", Common }, new object[] { "adamax", Common }, new object[] { "adabelief", Common.Append("rectify").ToArray() },
        new object[] { "yogi", Common.Append("initial_accumulator").ToArray() },
        new object[] { "sgd", new[] { "lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize", "stability_check" } },
    };

    [Theory]
    [MemberData(nameof(AcceptedKeys))]
    public void EachPreset_AcceptsExactlyItsKeys(string preset, string[] keys)
        => Assert.Equal(keys.Order(), Presets.Get(preset).Keys.Order());

    // preset, lr, eps, weight decay, estimator, decay, eps_mode, direction, rectify, initial accumulator (ALGORITHMS §3)
    public static IEnumerable<object[]> PresetDefaults() => new[]
    {
        new object[] { "adamd", 1e-3, 1e-8, 5e-4, "adam", DecayPlacement.Preconditioned, EpsMode.Inside, Direction.HeavyBall, false, 0.0 },
        new object[] { "amsgradd", 1e-3, 1e-8, 5e-4, "amsgrad", DecayPlacement.Preconditioned, EpsMode.Inside, Direction.HeavyBall, false, 0.0 },
        new object[] { "yogid", 1e-3, 1e-3, 5e-4, "yogi", DecayPlacement.Preconditioned, EpsMode.Inside, Direction.HeavyBall, false, 1e-6 },
        new object[] { "adabeliefd", 1e-3, 1e-8, 5e-4, "adabelief", DecayPlacement.Preconditioned, EpsMode.Inside, Direction.HeavyBall, false, 0.0 },
        new object[] { "nadamd", 1e-3, 1e-8, 5e-4, "adam", DecayPlacement.Preconditioned, EpsMode.Inside, Direction.Nesterov, false, 0.0 },
        new object[] { "afmdw", 1e-3, 1e-8, 5e-4, "adam", DecayPlacement.Preconditioned, EpsMode.Inside, Direction.HeavyBall, false, 0.0 },
        new object[] { "adam", 1e-3, 1e-8, 0.0, "adam", DecayPlacement.L2, EpsMode.Outside, Direction.HeavyBall, false, 0.0 },
        new object[] { "adamw", 1e-3, 1e-8, 1e-2, "adam", DecayPlacement.Decoupled, EpsMode.Outside, Direction.HeavyBall, false, 0.0 },
        new object[] { "nadam", 2e-3, 1e-8, 0.0, "adam", DecayPlacement.L2, EpsMode.Outside, Direction.NAdam, false, 0.0 },
        new object[] { "nadamw", 2e-3, 1e-8, 1e-2, "adam", DecayPlacement.Decoupled, EpsMode.Outside, Direction.NAdam, false, 0.0 },
        new object[] { "radam", 1e-3, 1e-8, 0.0, "adam", DecayPlacement.L2, EpsMode.Outside, Direction.HeavyBall, true, 0.0 },
        new object[] { "radamw", 1e-3, 1e-8, 1e-2, "adam", DecayPlacement.Decoupled, EpsMode.Outside, Direction.HeavyBall, true, 0.0 },
        new object[] { "adamax", 2e-3, 1e-8, 0.0, "infinity", DecayPlacement.L2, EpsMode.Outside, Direction.HeavyBall, false, 0.0 },
        new object[] { "sgd", 1e-3, 1e-8, 0.0, "none", DecayPlacement.L2, EpsMode.Outside, Direction.Sgd, false, 0.0 },
        new object[] { "adabelief", 1e-3, 1e-16, 0.0, "adabelief", DecayPlacement.Decoupled, EpsMode.Outside, Direction.HeavyBall, true, 0.0 },   // rectify=True: adabelief_pytorch 0.2.0's default
        new object[] { "yogi", 1e-2, 1e-3, 0.0, "yogi", DecayPlacement.Decoupled, EpsMode.Outside, Direction.HeavyBall, false, 1e-6 },
    };

    [Theory]
    [MemberData(nameof(PresetDefaults))]
    public void EachPreset_HasItsDocumentedDefaults(string preset, double lr, double eps, double wd, string estimator,
        DecayPlacement decay, EpsMode epsMode, Direction direction, bool rectify, double initialAccumulator)
    {
        var d = Presets.Get(preset).Defaults();
        Assert.Equal((lr, eps, wd, estimator, decay, epsMode, direction, rectify, initialAccumulator),
            (d.LearningRate!.Value, d.Eps!.Value, d.WeightDecay!.Value, d.Estimator, d.Decay!.Value, d.EpsMode!.Value, d.Direction!.Value, d.Rectify!.Value, d.InitialAccumulator!.Value));
        Assert.Equal((0.9, 0.999, true, false, 0.0, 0.0, false, 4e-3, true), (d.Beta1!.Value, d.Beta2!.Value, d.BiasCorrection!.Value, d.Maximize!.Value,
            d.Momentum!.Value, d.Dampening!.Value, d.Nesterov!.Value, d.MomentumDecay!.Value, d.StabilityCheck!.Value));
        Assert.Equal(MomentSchedule.Constant, d.ThetaSchedule);
        Assert.Equal(MomentSchedule.Constant, d.TauSchedule);
    }

    [Fact]
    public void EveryOption_RoundTripsThroughItsText()
    {
        foreach (var preset in Presets.All)
        {
            var d = preset.Defaults();
            foreach (var option in OptionSchema.All)
            {
                var value = d.Get(option)!;
                Assert.Equal(value, option.Parse(option.Format(value)));
            }
        }
    }

    [Fact]
    public void EveryOption_RoundTripsThroughACheckpoint()
    {
        // Four rules between them set every option away from its default (an option a rule ignores must keep its
        // default, so no single rule can): an Adam-type one, SGD with momentum (dampened, and Nesterov), NAdam's direction.
        var adamType = new AfmdwOptions
        {
            LearningRate = 3e-4, Beta1 = 0.8, Beta2 = 0.95, Eps = 1e-6, WeightDecay = 1e-3, Estimator = "yogi", Direction = Direction.Nesterov,
            EpsMode = EpsMode.Outside, Decay = DecayPlacement.Decoupled, BiasCorrection = false, Maximize = true, InitialAccumulator = 1e-5,
            ThetaSchedule = MomentSchedule.Diminishing(5, 0.7), TauSchedule = MomentSchedule.LrTied, Rectify = true,
            StabilityCheck = false, StatePrecision = StatePrecision.BFloat16,
        };
        var sgd = new AfmdwOptions { Estimator = "none", Direction = Direction.Sgd, Decay = DecayPlacement.L2, Momentum = 0.3, Dampening = 0.1 };
        var sgdNesterov = new AfmdwOptions { Estimator = "none", Direction = Direction.Sgd, Decay = DecayPlacement.L2, Momentum = 0.3, Nesterov = true };
        var nadam = new AfmdwOptions { Direction = Direction.NAdam, MomentumDecay = 5e-3 };
        var sets = new[] { adamType, sgd, sgdNesterov, nadam };
        Assert.All(OptionSchema.All, o => Assert.Contains(sets, set => set.Get(o) is { } v && !v.Equals(o.DefaultValue)));
        foreach (var set in sets)
        {
            var ps = Fixture.Parameters();
            var path = Path.Combine(_dir, "all.ckpt");
            using (var a = new Afmdw(ps, set)) a.SaveCheckpoint(path);
            using var b = new Afmdw(ps, new AfmdwOptions { StatePrecision = set.StatePrecision }); // another precision is refused (LowPrecisionStateTests)
            b.LoadCheckpoint(path);
            foreach (var option in OptionSchema.All)
                if (set.Get(option) is { } v) Assert.Equal(v, b.Groups[0].Options.Get(option));
        }
    }

    [Fact]
    public void AHyperParameterTheRuleIgnores_IsRefused_AtConstructionAndBeforeTheNextStep()
    {
        // SGD's momentum on AdamD would be silently ignored: refused when given, and when set after construction.
        var ps = Fixture.Parameters();
        var e = Assert.Throws<ArgumentException>(() => new AdamD(ps, new AfmdwOptions { Momentum = 0.9 }));
        Assert.Contains("momentum = 0.9", e.Message);
        Assert.Contains("silently ignored", e.Message);
        Assert.Throws<ArgumentException>(() => new SGD(ps, new AfmdwOptions { LearningRate = 0.1, Beta1 = 0.5 }));

        using var opt = new AdamD(ps);
        foreach (var p in ps) p.grad = TorchSharp.torch.ones_like(p);
        var before = ps.Select(p => p.detach().clone()).ToArray();
        opt.Groups[0].Options.Momentum = 0.9;
        Assert.Throws<ArgumentException>(() => opt.step());
        for (int i = 0; i < ps.Length; i++) Assert.Equal(0f, (before[i] - ps[i]).abs().max().item<float>());   // nothing written
        opt.Groups[0].Options.Momentum = 0;
        opt.step();
        Assert.NotEqual(0f, (before[0] - ps[0]).abs().max().item<float>());
    }

    [Fact]
    public void Describe_ShowsTheStructureAsDeclared()
    {
        Assert.Equal("estimator=adam, direction=heavyball, eps_mode=outside, decay=decoupled", Presets.Get("adamw").Defaults().ToRule().Describe());
        Assert.Equal("direction=sgd, decay=l2", Presets.Get("sgd").Defaults().ToRule().Describe());
        Assert.Equal("estimator=infinity, direction=heavyball, decay=l2", Presets.Get("adamax").Defaults().ToRule().Describe());
        Assert.Equal("estimator=adam, direction=heavyball, eps_mode=outside, decay=l2, rectify=true", Presets.Get("radam").Defaults().ToRule().Describe());
        Assert.Equal("lr=0.001, weight_decay=0, momentum=0, dampening=0", Presets.Get("sgd").Defaults().Describe());
        Assert.Equal("lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0005", Presets.Get("adamd").Defaults().Describe());
    }

    [Fact]
    public void CustomCodec_ParsesAliases_AndFormatsCanonically()
    {
        var codec = OptionCodecs.Custom((key, text) => text.Trim().ToLowerInvariant() switch
        {
            "float32" or "fp32" => 32, "bfloat16" or "bf16" => 16,
            _ => throw new ArgumentException($"{key} = '{text}' is not float32 or bfloat16.", key),
        }, bits => bits == 32 ? "float32" : "bfloat16", bits => bits is 16 or 32 ? null : "must be 16 or 32 bits");
        Assert.Equal(16, codec.Parse("state_precision", " BF16 "));
        Assert.Equal("bfloat16", codec.Format(16));
        Assert.Contains("'int4'", Assert.Throws<ArgumentException>(() => codec.Parse("state_precision", "int4")).Message);
        Assert.NotNull(codec.Check(8));
    }
}
