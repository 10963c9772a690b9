using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Execution;

/// <summary>
/// The seam every command that runs units goes through (afm compare; afm tune with its trials as units): writes
/// DIR/plan.json, skips units whose result is already there with a matching hash, hands the rest to the executor,
/// and collects every unit's result. The caller has validated everything, holds the folder
/// (<see cref="ResultsFolder.Claim"/>) and has written the settings file the plan names.
/// </summary>
public static class PlanRunner
{
    public static (ExecutionOutcome Execution, IReadOnlyList<(RunUnit Unit, RunResult? Result)> Results) Run(
        string dir, RunPlan plan, ExperimentSettings settings, IUnitExecutor executor, UnitEvents events, TrainingTask? loadedTask, CancellationToken cancel)
    {
        if (SlurmExecutor.ActiveJob(dir) is { } active)
            throw new InvalidOperationException(
                $"Slurm job {active.Job.JobId} (submitted {active.Job.Submitted}) still has {active.Tasks.Count} unit(s) queued or running in '{dir}'. " +
                $"Wait for it (`afm status {dir}`), or `scancel {active.Job.JobId}` first; a second submission would run the same units twice.");
        var store = new ResultStore(dir);
        LabFiles.WriteAtomically(store.PlanPath, plan.ToJson());

        var todo = new List<RunUnit>();
        foreach (var unit in plan.Units)
        {
            if (store.TryLoadUnit(unit, plan.SettingsHash) is { } done) events.Finished?.Invoke(unit, done, true);
            else todo.Add(unit);
        }
        var execution = executor.Execute(new UnitContext(dir, plan, settings, executor is InProcessExecutor ? loadedTask : null), todo, events, cancel);
        return (execution, plan.Units.Select(u => (u, store.TryLoadUnit(u, plan.SettingsHash))).ToList());
    }
}
