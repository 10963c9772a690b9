using AdamFamily.Lab.Data;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// Runs a comparison: every arm × seed, seed-major so early results already pair up; finished runs found
/// in the results folder are reused, so a killed comparison restarts where it stopped.
/// </summary>
public static class ComparisonRunner
{
    public static ComparisonSummary Run(ExperimentSettings settings, string outDir,
        Action<RunProgress>? progress = null, Action<RunResult, bool>? runDone = null, CancellationToken cancel = default)
    {
        settings.Validate();
        var store = new ResultStore(outDir);
        store.BindSettings(settings);
        var results = new List<RunResult>();
        ILabTask? task = null;
        try
        {
            foreach (var seed in settings.Seeds)
                foreach (var arm in settings.Arms)
                {
                    if (store.TryLoadRun(arm.Name, seed) is { } done)
                    {
                        results.Add(done);
                        runDone?.Invoke(done, true);
                        continue;
                    }
                    task ??= TaskLoader.Load(settings);
                    var run = task.Train(settings, arm, seed, progress, cancel);
                    store.SaveRun(run);
                    results.Add(run);
                    runDone?.Invoke(run, false);
                }
        }
        finally { task?.Dispose(); }

        var summary = ComparisonSummary.From(settings, results);
        LabFiles.WriteAtomically(Path.Combine(store.Dir, "summary.json"), summary.ToJson());
        LabFiles.WriteAtomically(Path.Combine(store.Dir, "summary.csv"), summary.ToCsv());
        return summary;
    }
}
