using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tests;

/// <summary>One language-model run on a corpus the test owns, through the task contract and the one trainer.</summary>
internal static class LanguageModelRuns
{
    public static RunResult LmRun(TextCorpus corpus, ExperimentSettings s, ArmSpec arm, int seed, LanguageModelObserver? observer = null)
    {
        using var task = new LanguageModelingTask(corpus, s, ownsCorpus: false) { Observer = observer };
        return Trainer.Run(task, s, arm, seed);
    }
}
