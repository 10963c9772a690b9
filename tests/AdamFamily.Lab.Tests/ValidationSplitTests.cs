using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tests;

[Collection(TorchRngCollection.Name)]
public class ValidationSplitTests
{
    private static long[] Labels(LabDataset d) => d.Labels.data<long>().ToArray();

    [Fact]
    public void TheLastNTrainingExamples_AreHeldOut_AndTrainingUsesTheOnesBefore()
    {
        using var raw = SyntheticImageTask.Create(new SyntheticImageOptions { Seed = 0 });
        var rawTrain = Labels(raw.Train);
        var s = new ExperimentSettings { Task = "synthetic", TrainSubset = 300, TestSubset = 100, Validation = 250 };
        using var task = TaskLoader.HoldOut(SyntheticImageTask.Create(new SyntheticImageOptions { Seed = 0 }), s);
        Assert.Equal(rawTrain[^250..], Labels(task.Validation!));
        Assert.Equal(rawTrain[..300], Labels(task.Train));
        Assert.Equal(100, task.Test.Count);
        // The default for the synthetic task is 400 of its 2 000; without a subset training gets the other 1 600.
        using var byDefault = TaskLoader.LoadImages(new ExperimentSettings { Task = "synthetic" });
        Assert.Equal(400, byDefault.Validation!.Count);
        Assert.Equal(1600, byDefault.Train.Count);
        using var none = TaskLoader.LoadImages(new ExperimentSettings { Task = "synthetic", Validation = 0 });
        Assert.Null(none.Validation);
        Assert.Equal(2000, none.Train.Count);
        Assert.Equal(10_000, new ExperimentSettings { Task = "fashion-mnist" }.ValidationCount);
        Assert.Equal(10_000, new ExperimentSettings { Task = "cifar10" }.ValidationCount);
    }

    [Fact]
    public void AHoldOutAsLargeAsTheTrainingSet_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => TaskLoader.LoadImages(new ExperimentSettings { Task = "synthetic", Validation = 2000 }));
        Assert.Contains("--validation 2000", e.Message);
        Assert.Contains("2000 examples", e.Message);
        Assert.Contains("validation", Assert.ThrowsAny<ArgumentException>(() => (ComparisonTests.Tiny with { Validation = -1 }).Validate()).Message);
    }

    [Fact]
    public void EveryEpoch_RecordsTheValidationMetric()
    {
        var s = ComparisonTests.Tiny with { Validation = 200 };
        using var task = TaskLoader.Load(s);
        var run = Trainer.Run(task, s, s.Arms[0], seed: 0);
        Assert.All(run.Epochs, e => Assert.InRange(e.ValidMetric, 0, 100));
        Assert.All(run.Epochs, e => Assert.Equal(0, e.ValidMetric * 200 / 100 % 1, 6)); // a whole number of the 200 images
        Assert.Equal(10, run.WorstMetric);
        Assert.NotNull(run.SelectedEpoch(true));
    }
}
