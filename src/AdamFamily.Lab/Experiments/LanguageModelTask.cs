using AdamFamily.Lab.Data;
using AdamFamily.Lab.Tasks;

namespace AdamFamily.Lab.Experiments;

/// <summary>Loading the language-modelling tasks "ptb" and "text" (<see cref="LanguageModelingTask"/>).</summary>
public static class LanguageModelTask
{
    /// <summary>
    /// The corpus an experiment names: "ptb" reads the Penn Treebank folder <c>DataPath</c>; "text" reads the
    /// file or folder <c>DataPath</c>, by default <see cref="CorpusReader.DefaultTextPath"/> when it exists.
    /// </summary>
    public static LanguageModelingTask Load(ExperimentSettings s)
    {
        var lm = s.Lm ?? LanguageModelSettings.Default;
        var corpus = s.Task switch
        {
            "ptb" => CorpusReader.LoadPtb(s.DataPath ?? throw new ArgumentException(
                $"ptb needs --data DIR: the folder with {string.Join(", ", CorpusReader.PtbFiles)} (Mikolov's word-level Penn Treebank, one sentence per line).", "data")),
            "text" => CorpusReader.LoadText(TextPath(s) ?? throw new ArgumentException(
                $"text needs --data PATH: a plain-text file, or a folder of text files read in name order (Debian's fortunes package installs one in {CorpusReader.DefaultTextPath}: apt-get install fortunes).", "data"),
                lm.SplitFractions, lm.MaxVocab, lm.MinCount),
            _ => throw new ArgumentException($"task '{s.Task}' is not a language-modelling task (ptb, text).", "task"),
        };
        try { return new LanguageModelingTask(corpus, s); }
        catch { corpus.Dispose(); throw; }
    }

    /// <summary>The text task's path: <c>DataPath</c>, else the fortunes folder if installed, else null.</summary>
    public static string? TextPath(ExperimentSettings s) =>
        s.DataPath ?? (Directory.Exists(CorpusReader.DefaultTextPath) ? CorpusReader.DefaultTextPath : null);
}
