using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;
using Xunit;

namespace AdamFamily.Lab.Tests.Tasks;

/// <summary>
/// The built-in tasks run through the task contract with the numbers they had before it: the expected values below were
/// written by afm at commit 415cbed (the last one with a trainer per task kind), for
/// <c>afm compare --task synthetic --epochs 2 --seeds 1 --arm adamd:lr=1e-3 --arm sgd:lr=0.1,momentum=0.9 --augment
/// --executor inprocess --threads-per-run 1 --train-subset 300</c> (runs/*.jsonl), printed with full precision.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class ContractParityTests
{
    private static readonly ExperimentSettings Settings = new()
    {
        Task = "synthetic", Epochs = 2, Seeds = [0], TrainSubset = 300, Augment = true,
        Arms = [new ArmSpec("adamd", "adamd:lr=1e-3"), new ArmSpec("sgd", "sgd:lr=0.1,momentum=0.9")],
    };

    [Theory]
    [InlineData("adamd", new[] { 2.3048402150472005, 2.289753828048706 }, new[] { 8.666666666666666, 12 }, new[] { 2.306984375, 2.3017255859375 },
        new[] { 10.6, 9.8 }, new[] { 13.128687904256914, 13.066766186921923 }, new[] { 0.1698376563170414, 0.1333466100137727 }, new[] { 15, 13.25 })]
    [InlineData("sgd", new[] { 2.3063323561350506, 2.2972061316172283 }, new[] { 9, 12.333333333333334 }, new[] { 2.301965087890625, 2.30801171875 },
        new[] { 12.4, 8.6 }, new[] { 13.213851535156968, 13.215102732334733 }, new[] { 0.48411902107575006, 0.5792508412565004 }, new[] { 14.5, 11 })]
    public void ASyntheticRun_GivesThePreContractNumbers_BitForBit(string arm, double[] trainLoss, double[] trainMetric, double[] testLoss,
        double[] testMetric, double[] weightNorm, double[] stationarity, double[] validMetric)
    {
        using var pin = UnitRunner.PinThreads(1);
        using var task = TaskLoader.Load(Settings);
        var spec = Settings.Arms.Single(a => a.Name == arm);
        // As the unit runner calls it (with a progress listener), so every batch is counted as it was.
        var run = Trainer.Run(task, Settings, spec, 0, _ => { });
        Assert.Equal(2, run.Epochs.Count);
        for (int e = 0; e < 2; e++)
        {
            var m = run.Epochs[e];
            Assert.Equal(trainLoss[e], m.TrainLoss);
            Assert.Equal(trainMetric[e], m.TrainMetric);
            Assert.Equal(testLoss[e], m.TestLoss);
            Assert.Equal(testMetric[e], m.TestMetric);
            Assert.Equal(weightNorm[e], m.WeightNorm);
            Assert.Equal(stationarity[e], m.Stationarity);
            Assert.Equal(validMetric[e], m.ValidMetric);
        }
        Assert.Equal(10, run.WorstMetric);
    }
}
