using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>The strict arm grammar: every malformed spec is an error naming the arm and the key; nothing is silently dropped.</summary>
public class ArmGrammarTests
{
    [Theory]
    [InlineData("adamd:lr=0.5)", "unbalanced ')'")]            // trained at the default lr before
    [InlineData("adamd:lr=0.5]", "unbalanced ']'")]
    [InlineData("adamd:betas=(0.9,0.99", "never closed")]
    [InlineData("adamd:betas=(0.9,0.99],lr=1e-3", "mismatched")]
    [InlineData("adamd:lr=1e-3,lr=1e-2", "'lr' is given twice")]
    [InlineData("adamd:LR=1e-3,lr=1e-2", "'lr' is given twice")]
    [InlineData("adamd:lr=", "'lr' has an empty value")]
    [InlineData("adamd:=1e-3", "no key")]
    [InlineData("adamd:lr", "not key=value")]
    [InlineData("adamd:lr=1e-3,,eps=1e-8", "empty option")]
    [InlineData("adamd:lr=1e-3,", "empty option")]
    [InlineData("adamd:", "nothing after ':'")]
    [InlineData(":lr=1e-3", "no preset")]
    [InlineData("adamx:lr=1e-3", "'adamx' is not a preset")]
    [InlineData("adamd:nonfinite=skip", "'nonfinite' cannot be set")]
    [InlineData("adamd:betas=(0.9,0.99),beta1=0.8", "'betas' and 'beta1'")]
    [InlineData("adam:amsgrad=true,estimator=yogi", "'amsgrad' and 'estimator'")]
    [InlineData("adamd:lr=fast", "fast")]
    [InlineData("adamd:lr=-1", "lr")]
    [InlineData("adamd:lr=nan", "lr")]
    [InlineData("adamd:eps=0", "eps")]
    [InlineData("adamd:lr=1,weight_decay=1", "unstable")]        // η·σ·ε^(−1/2) ≥ 1: refused now, not when training starts
    [InlineData("adamd:momentum=0.9", "momentum")]                // not an option of adamd
    public void AMalformedSpec_IsAnError_NamingTheArm(string spec, string expected)
    {
        var arm = ExperimentSettings.ParseArm(spec);
        var e = Assert.ThrowsAny<ArgumentException>(() => ArmGrammar.Check(arm));
        Assert.Contains($"arm '{arm.Name}'", e.Message);
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);

        // ... and the same through the settings, so every entry point (CLI, experiment file, protocol) refuses it.
        var s = new ExperimentSettings { Task = "synthetic", Arms = new[] { arm } };
        Assert.ThrowsAny<ArgumentException>(() => s.Validate());
    }

    [Theory]
    [InlineData("adamd:lr=1e-3,weight_decay=5e-4", "adamd", "lr=1e-3|weight_decay=5e-4")]
    [InlineData("adamd: betas=(0.9, 0.99) , lr=2e-3", "adamd", "betas=(0.9, 0.99)|lr=2e-3")]
    [InlineData("afmdw:theta_schedule=diminishing T=5 p=0.7,lr=1e-3", "afmdw", "theta_schedule=diminishing T=5 p=0.7|lr=1e-3")]
    [InlineData("SGD", "sgd", "")]
    public void AWellFormedSpec_ParsesToWhatWasWritten(string spec, string preset, string pairs)
    {
        var arm = ExperimentSettings.ParseArm(spec);
        ArmGrammar.Check(arm);
        var (p, options) = ArmGrammar.Parse(arm);
        Assert.Equal(preset, p);
        Assert.Equal(pairs, string.Join("|", options.Select(kv => $"{kv.Key}={kv.Value}")));
    }
}
