using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>
/// Every value of an experiment is checked by ExperimentSettings.Validate, whoever set it (command line, experiment
/// file, protocol): the error names the setting and the value. Each case was accepted (or crashed later) before.
/// </summary>
public class SettingsValidationTests
{
    private static readonly ExperimentSettings Good = new() { Task = "synthetic", Epochs = 3, Arms = new[] { new ArmSpec("adam", "adam:lr=1e-3") } };

    public static TheoryData<string, Func<ExperimentSettings, ExperimentSettings>, string[]> Bad => new()
    {
        { "margin NaN", s => s with { Margin = double.NaN }, new[] { "margin", "NaN" } },
        { "margin ∞", s => s with { Margin = double.PositiveInfinity }, new[] { "margin", "Infinity" } },
        { "margin < 0", s => s with { Margin = -1 }, new[] { "margin", "-1" } },
        { "margin ≥ 100 pp on accuracy", s => s with { Margin = 100 }, new[] { "margin", "100", "below 100 pp" } },
        { "gamma 0", s => s with { Schedule = new ScheduleSpec("multistep", new[] { 1 }, 0) }, new[] { "gamma", "0" } },
        { "gamma < 0", s => s with { Schedule = new ScheduleSpec("multistep", new[] { 1 }, -0.5) }, new[] { "gamma", "-0.5" } },
        { "gamma NaN", s => s with { Schedule = new ScheduleSpec("multistep", new[] { 1 }, double.NaN) }, new[] { "gamma", "NaN" } },
        { "milestone absurd", s => s with { Schedule = new ScheduleSpec("multistep", new[] { int.MaxValue }) }, new[] { "milestones", "2147483648" } },
        { "milestone 0 (never takes effect)", s => s with { Schedule = new ScheduleSpec("multistep", new[] { 0 }) }, new[] { "milestones", "epoch 1" } },
        { "milestone negative", s => s with { Schedule = new ScheduleSpec("multistep", new[] { -5 }) }, new[] { "milestones", "-4" } },
        { "milestones not increasing", s => s with { Schedule = new ScheduleSpec("multistep", new[] { 2, 1 }) }, new[] { "milestones", "3,2" } },
        { "multistep without milestones", s => s with { Schedule = new ScheduleSpec("multistep") }, new[] { "milestones" } },
        { "milestones with cosine", s => s with { Schedule = new ScheduleSpec("cosine", new[] { 1 }) }, new[] { "milestones", "cosine" } },
        { "schedule unknown", s => s with { Schedule = new ScheduleSpec("linear") }, new[] { "schedule", "linear" } },
        { "schedule null", s => s with { Schedule = null! }, new[] { "schedule" } },
        { "clip NaN", s => s with { ClipGradNorm = double.NaN }, new[] { "clip", "NaN" } },
        { "clip 0", s => s with { ClipGradNorm = 0 }, new[] { "clip", "0" } },
        { "clip ∞", s => s with { ClipGradNorm = double.PositiveInfinity }, new[] { "clip", "Infinity" } },
        { "epochs 0", s => s with { Epochs = 0 }, new[] { "epochs", "0" } },
        { "epochs < 0", s => s with { Epochs = -3 }, new[] { "epochs", "-3" } },
        { "epochs absurd", s => s with { Epochs = int.MaxValue }, new[] { "epochs", int.MaxValue.ToString() } },
        { "batch 0", s => s with { BatchSize = 0 }, new[] { "batch_size", "0" } },
        { "batch < 0", s => s with { BatchSize = -1 }, new[] { "batch_size", "-1" } },
        { "seed < 0", s => s with { Seeds = new[] { 0, -7 } }, new[] { "seed", "-7" } },
        { "seeds repeat", s => s with { Seeds = new[] { 1, 1 } }, new[] { "seeds", "1,1" } },
        { "no seeds", s => s with { Seeds = Array.Empty<int>() }, new[] { "seeds" } },
        { "seeds null", s => s with { Seeds = null! }, new[] { "seeds" } },
        { "too many seeds", s => s with { Seeds = Enumerable.Range(0, 1001).ToArray() }, new[] { "seeds", "1001" } },
        { "train subset 0", s => s with { TrainSubset = 0 }, new[] { "train_subset", "0" } },
        { "test subset < 0", s => s with { TestSubset = -2 }, new[] { "test_subset", "-2" } },
        { "crop padding < 0", s => s with { CropPadding = -1 }, new[] { "crop_padding", "-1" } },
        { "task unknown", s => s with { Task = "imagenet" }, new[] { "task", "imagenet" } },
        { "task null", s => s with { Task = null! }, new[] { "task" } },
        { "model unknown", s => s with { Model = "resnet9000" }, new[] { "model", "resnet9000" } },
        { "data empty", s => s with { DataPath = " " }, new[] { "data" } },
        { "device bogus", s => s with { Device = "tpu" }, new[] { "device", "tpu" } },
        { "device empty", s => s with { Device = "" }, new[] { "device" } },
        { "lm settings on an image task", s => s with { Lm = new LanguageModelSettings() }, new[] { "lm", "synthetic" } },
        { "arms null", s => s with { Arms = null! }, new[] { "arm" } },
        { "an arm null", s => s with { Arms = new ArmSpec[] { null! } }, new[] { "arm" } },
        { "arm label empty", s => s with { Arms = new[] { new ArmSpec(" ", "adam") } }, new[] { "label" } },
        { "arm optimizer empty", s => s with { Arms = new[] { new ArmSpec("a", "") } }, new[] { "'a'", "optimizer" } },
        { "baseline unknown", s => s with { Baseline = "sgd" }, new[] { "baseline", "sgd" } },
        { "lm dropout NaN", s => s with { Task = "text", Model = "lstm", Lm = new LanguageModelSettings { Dropout = double.NaN } }, new[] { "dropout", "NaN" } },
        { "lm augment", s => s with { Task = "text", Model = "lstm", Augment = true }, new[] { "augment", "text" } },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void ABadValue_IsRefused_NamingTheSettingAndTheValue(string what, Func<ExperimentSettings, ExperimentSettings> change, string[] mentioned)
    {
        Good.Validate();   // the base case is fine
        var e = Assert.ThrowsAny<ArgumentException>(() => change(Good).Validate());
        foreach (var m in mentioned) Assert.True(e.Message.Contains(m, StringComparison.Ordinal), $"{what}: '{e.Message}' does not mention '{m}'");
    }

    [Theory]
    [InlineData("0", "'0'")]
    [InlineData("1", "'1'")]              // the lr would drop before the first epoch: MultiStepLR never applies index 0
    [InlineData("abc", "'abc'")]
    [InlineData("99999999999", "'99999999999'")]
    [InlineData("200000", "200000")]
    [InlineData("-3", "'-3'")]
    [InlineData("5,", "'5,'")]
    [InlineData("", "''")]
    [InlineData("2.5", "'2.5'")]
    public void MilestonesText_IsRead_OrRefusedNamingOptionAndValue(string text, string shown)
    {
        Exception? e = Record.Exception(() =>
        {
            var ms = ScheduleSpec.ParseMilestones(text);
            (Good with { Schedule = new ScheduleSpec("multistep", ms) }).Validate();
        });
        var ae = Assert.IsAssignableFrom<ArgumentException>(e);
        Assert.Contains("milestones", ae.Message);
        Assert.True(ae.Message.Contains(shown, StringComparison.Ordinal) || ae.Message.Contains(shown.Trim('\''), StringComparison.Ordinal), ae.Message);
    }

    [Fact]
    public void MilestonesText_IsOneBased_AndOnesPastTheRunAreReported()
    {
        Assert.Equal(new[] { 1, 2 }, ScheduleSpec.ParseMilestones("2, 3"));
        var s = Good with { Schedule = new ScheduleSpec("multistep", ScheduleSpec.ParseMilestones("2,3")) };
        s.Validate();
        Assert.Empty(s.MilestonesPastTheRun);
        Assert.Equal(new[] { 9 }, (s with { Schedule = new ScheduleSpec("multistep", new[] { 8 }) }).MilestonesPastTheRun);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("99999999999")]
    [InlineData("1001")]
    [InlineData("1,,2")]
    [InlineData("1,x")]
    [InlineData("1,-2")]
    public void SeedsText_IsRefusedNamingOptionAndValue(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => ExperimentSettings.ParseSeeds(text));
        Assert.Contains("--seeds", e.Message);
    }

    [Fact]
    public void SeedsText_CountOrList()
    {
        Assert.Equal(new[] { 0, 1, 2 }, ExperimentSettings.ParseSeeds("3"));
        Assert.Equal(new[] { 1, 5, 9 }, ExperimentSettings.ParseSeeds("1, 5,9"));
    }

    [Fact]
    public void EveryProtocol_StillValidates_AtBothScales()
    {
        foreach (var name in Protocols.All.Keys)
            foreach (var scale in new[] { "full", "quick" })
                Protocols.Get(name, scale).Validate();
    }
}
