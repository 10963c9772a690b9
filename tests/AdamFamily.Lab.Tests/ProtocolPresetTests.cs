using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests;

/// <summary>Every named protocol resolves to its documented settings (README "Protocols"), and quick shrinks it.</summary>
public class ProtocolPresetTests
{
    private static readonly string[] CifarArms =
        { "adam:lr=1e-3,weight_decay=5e-4", "adamw:lr=1e-3,weight_decay=1e-2", "adamd:lr=1e-3,weight_decay=5e-4", "sgd:lr=0.1,momentum=0.9,weight_decay=5e-4" };
    private static readonly string[] FmnistArms =
        { "adam:lr=1e-3,weight_decay=5e-4", "adamw:lr=1e-3,weight_decay=1e-2", "adamd:lr=1e-3,weight_decay=5e-4", "sgd:lr=0.05,momentum=0.9,weight_decay=5e-4" };
    private static string[] PtbArms(string lr, string eps = "") => new[] { $"adam:lr={lr},weight_decay=1.2e-6{eps}", $"adamw:lr={lr},weight_decay=1.2e-6{eps}", $"adamd:lr={lr},weight_decay=1.2e-6" };

    public sealed record Expected(string Name, string Task, string Model, int Epochs, int Batch, int[] Milestones,
        bool Augment, int CropPadding, double? Clip, string[] Arms, LanguageModelSettings? Lm, int? Train = null, int? Validation = null, int? Test = null);

    public static TheoryData<Expected> Presets => new()
    {
        new Expected("fmnist-mlp", "fashion-mnist", "mlp", 10, 128, new[] { 8 }, false, 4, null, FmnistArms, null),
        new Expected("fmnist-resnet18", "fashion-mnist", "resnet18", 15, 128, new[] { 11 }, true, 2, null, FmnistArms, null),
        new Expected("fmnist-cnn-bn", "fashion-mnist", "cnn-bn", 4, 128, new[] { 3 }, true, 2, null,
            new[] { "adam:lr=1e-3,weight_decay=5e-4", "adamw:lr=1e-3,weight_decay=1e-2", "adamd:lr=1e-3,weight_decay=5e-4", "adamd:lr=1e-3,weight_decay=1e-2,decay=decoupled", "sgd:lr=0.1,momentum=0.9,weight_decay=5e-4" },
            null, Train: 10000, Validation: 4000, Test: 4000),
        new Expected("cifar10-resnet34", "cifar10", "resnet34", 200, 128, new[] { 150 }, true, 4, null, CifarArms, null),
        new Expected("cifar10-densenet121", "cifar10", "densenet121", 200, 128, new[] { 150 }, true, 4, null, CifarArms, null),
        new Expected("cifar10-vgg11", "cifar10", "vgg11", 200, 128, new[] { 150 }, true, 4, null, CifarArms, null),
        new Expected("cifar100-resnet34", "cifar100", "resnet34", 200, 128, new[] { 150 }, true, 4, null, CifarArms, null),
        new Expected("cifar100-densenet121", "cifar100", "densenet121", 200, 128, new[] { 150 }, true, 4, null, CifarArms, null),
        new Expected("ptb-lstm-1layer", "ptb", "lstm", 200, 20, new[] { 100, 145 }, false, 4, 0.25, PtbArms("1e-3", ",eps=1e-12"),   // run_all_layer1.py: adam / adamw with eps 1e-12
            new LanguageModelSettings { Layers = 1, Embedding = 400, Hidden = 400, TiedWeights = true, Dropout = 0.4, Bptt = 70, EvalBatchSize = 10 }),
        new Expected("ptb-lstm-2layer", "ptb", "lstm", 200, 20, new[] { 100, 145 }, false, 4, 0.25, PtbArms("1e-2"),
            new LanguageModelSettings { Layers = 2, Embedding = 400, Hidden = 1150, Dropout = 0.4, Bptt = 70, EvalBatchSize = 10 }),
        new Expected("ptb-lstm-3layer", "ptb", "lstm", 200, 20, new[] { 100, 145 }, false, 4, 0.25, PtbArms("1e-2"),
            new LanguageModelSettings { Layers = 3, Embedding = 400, Hidden = 1150, Dropout = 0.4, Bptt = 70, EvalBatchSize = 10 }),
    };

    [Fact]
    public void EveryProtocol_IsTested_AndDescribed()
    {
        Assert.Equal(((IEnumerable<object[]>)Presets).Select(p => ((Expected)p[0]).Name).Order(), Protocols.All.Keys.Order());
        Assert.All(Protocols.All, p => Assert.False(string.IsNullOrWhiteSpace(p.Value.Description)));
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void AProtocol_ResolvesToItsDocumentedSettings(Expected e)
    {
        var s = Protocols.Get(e.Name);
        Assert.Equal(e.Name, s.Protocol);
        Assert.Equal(e.Task, s.Task);
        Assert.Equal(e.Model, s.Model);
        Assert.Equal(e.Epochs, s.Epochs);
        Assert.Equal(e.Batch, s.BatchSize);
        Assert.Equal("multistep", s.Schedule.Kind);
        Assert.Equal(e.Milestones, s.Schedule.Milestones); // 0-based: the first epoch at the lower lr
        Assert.Equal(0.1, s.Schedule.Gamma);
        Assert.Equal(e.Augment, s.Augment);
        if (e.Augment) Assert.Equal(e.CropPadding, s.CropPadding);
        Assert.Equal(e.Clip, s.ClipGradNorm);
        Assert.Equal(e.Arms, s.Arms.Select(a => a.Optimizer));
        Assert.Equal("adam", s.BaselineArm);
        Assert.Equal(new[] { 0, 1, 2 }, s.Seeds);
        Assert.Equal(e.Train, s.TrainSubset);   // only protocols sized for 2 CPU cores at full scale have subsets
        Assert.Equal(e.Test, s.TestSubset);
        Assert.Equal(e.Validation, s.Validation);
        Assert.Equal(e.Lm, s.Lm);
        s.Validate();
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void QuickScale_ShrinksAProtocol_KeepingItsArms_AndItsLrDropsInPlace(Expected e)
    {
        var full = Protocols.Get(e.Name, "full");
        var q = Protocols.Get(e.Name, "quick");
        Assert.True(q.Epochs < full.Epochs && q.Epochs >= 2, $"{q.Epochs} epochs");
        Assert.True(q.TrainSubset is > 0);
        Assert.Equal(full.Arms, q.Arms);
        Assert.Equal(full.Seeds, q.Seeds);
        Assert.Equal(full.Task, q.Task);
        Assert.Equal(full.Model, q.Model);
        Assert.Equal(full.Schedule.Milestones!.Length, q.Schedule.Milestones!.Length); // every drop still happens ...
        Assert.All(q.Schedule.Milestones, m => Assert.InRange(m, 1, q.Epochs - 1));
        for (int i = 0; i < q.Schedule.Milestones.Length; i++)                       // ... at about the same place
            Assert.InRange((double)q.Schedule.Milestones[i] / q.Epochs - (double)full.Schedule.Milestones[i] / full.Epochs, -0.26, 0.26);
        if (full.Lm is { } lm)
        {
            Assert.True(q.Lm!.Hidden < lm.Hidden && q.Lm.Embedding < lm.Embedding && q.Lm.Bptt < lm.Bptt);
            Assert.Equal(lm.Layers, q.Lm.Layers);
            Assert.Equal(lm.TiedWeights, q.Lm.TiedWeights);
        }
        q.Validate();
        Assert.Throws<ArgumentException>(() => Protocols.Get(e.Name, "medium"));
    }

    [Fact]
    public void Quick_MovesMilestonesToTheSameRelativePlace()
    {
        var full = Protocols.Get("ptb-lstm-2layer");
        Assert.Equal(new[] { 2, 3 }, Protocols.Quick(full, 4, 100, 10).Schedule.Milestones);   // 100/200, 145/200 of 4 epochs
        Assert.Equal(new[] { 5, 7 }, Protocols.Quick(full, 10, 100, 10).Schedule.Milestones);
        Assert.Equal(new[] { 1 }, Protocols.Quick(full, 2, 100, 10).Schedule.Milestones);      // both drops in the last epoch
        Assert.Equal(new[] { 3 }, Protocols.Quick(Protocols.Get("cifar10-vgg11"), 4, 100, 10).Schedule.Milestones);
    }
}
