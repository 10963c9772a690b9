using AdamFamily.Lab.Data;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>Language modelling: <see cref="LanguageModelTrainer"/> on a <see cref="TextCorpus"/> (tasks "ptb" and "text").</summary>
public sealed class LanguageModelTask(TextCorpus corpus) : ILabTask
{
    public TextCorpus Corpus { get; } = corpus;

    public RunResult Train(ExperimentSettings s, ArmSpec arm, int seed, Action<RunProgress>? progress, CancellationToken cancel)
        => LanguageModelTrainer.Run(Corpus, s, arm, seed, progress, cancel);

    public double WorstMetric => Corpus.Vocab.Count;

    public void Dispose() => Corpus.Dispose();

    /// <summary>
    /// The corpus an experiment names: "ptb" reads the Penn Treebank folder <c>DataPath</c>; "text" reads the
    /// file or folder <c>DataPath</c>, by default <see cref="CorpusReader.DefaultTextPath"/> when it exists.
    /// </summary>
    public static LanguageModelTask Load(ExperimentSettings s)
    {
        var lm = s.Lm ?? LanguageModelSettings.Default;
        return new LanguageModelTask(s.Task switch
        {
            "ptb" => CorpusReader.LoadPtb(s.DataPath ?? throw new ArgumentException(
                $"ptb needs --data DIR: the folder with {string.Join(", ", CorpusReader.PtbFiles)} (Mikolov's word-level Penn Treebank, one sentence per line).", "data")),
            "text" => CorpusReader.LoadText(TextPath(s) ?? throw new ArgumentException(
                $"text needs --data PATH: a plain-text file, or a folder of text files read in name order (Debian's fortunes package installs one in {CorpusReader.DefaultTextPath}: apt-get install fortunes).", "data"),
                lm.SplitFractions, lm.MaxVocab, lm.MinCount),
            _ => throw new ArgumentException($"task '{s.Task}' is not a language-modelling task (ptb, text).", "task"),
        });
    }

    /// <summary>The text task's path: <c>DataPath</c>, else the fortunes folder if installed, else null.</summary>
    public static string? TextPath(ExperimentSettings s) =>
        s.DataPath ?? (Directory.Exists(CorpusReader.DefaultTextPath) ? CorpusReader.DefaultTextPath : null);
}
