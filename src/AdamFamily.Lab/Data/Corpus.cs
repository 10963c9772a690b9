using System.Text;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>
/// A word vocabulary built from a training split. Ids are dense, 0..Count-1, in order of first appearance in
/// the training text; <see cref="Unk"/> is always present (appended if the text never uses it) and every
/// word outside the vocabulary maps to it.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The token of words outside the vocabulary (Penn Treebank's own spelling).</summary>
    public const string Unk = "<unk>";

    /// <summary>The end-of-sentence token appended to every line.</summary>
    public const string Eos = "<eos>";

    private readonly Dictionary<string, int> _ids;

    private Vocabulary(List<string> words)
    {
        Words = words;
        _ids = new Dictionary<string, int>(words.Count, StringComparer.Ordinal);
        for (int i = 0; i < words.Count; i++) _ids[words[i]] = i;
        UnkId = _ids[Unk];
        EosId = _ids.TryGetValue(Eos, out var e) ? e : -1;
    }

    /// <summary>Every word, indexed by id.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Number of words (the language model's output size).</summary>
    public int Count => Words.Count;

    /// <summary>Id of <see cref="Unk"/>.</summary>
    public int UnkId { get; }

    /// <summary>Id of <see cref="Eos"/> (−1 if the training text had no line at all).</summary>
    public int EosId { get; }

    /// <summary>Whether <paramref name="word"/> has its own id.</summary>
    public bool Contains(string word) => _ids.ContainsKey(word);

    /// <summary>The id of <paramref name="word"/>, or <see cref="UnkId"/> for a word outside the vocabulary.</summary>
    public int IdOf(string word) => _ids.TryGetValue(word, out var id) ? id : UnkId;

    /// <summary>
    /// Builds a vocabulary from the training tokens. With <paramref name="maxSize"/> &gt; 0 only the most
    /// frequent words are kept (ties broken by first appearance), <see cref="Unk"/> and <see cref="Eos"/>
    /// included and counted; with <paramref name="minCount"/> &gt; 1 words seen fewer times are dropped.
    /// Dropped words become <see cref="Unk"/>.
    /// </summary>
    /// <param name="trainTokens">The training split's tokens, &lt;eos&gt; included.</param>
    /// <param name="maxSize">Largest vocabulary (0 = no limit); at least 2 otherwise.</param>
    /// <param name="minCount">Smallest number of occurrences a word needs (≥ 1).</param>
    public static Vocabulary Build(IEnumerable<string> trainTokens, int maxSize = 0, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(trainTokens);
        if (maxSize is < 0 or 1) throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, $"max vocabulary {maxSize}: must be 0 (no limit) or ≥ 2 (<unk> and <eos> are always kept).");
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);

        var order = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in trainTokens)
        {
            if (counts.TryGetValue(t, out var n)) counts[t] = n + 1;
            else { counts[t] = 1; order.Add(t); }
        }

        bool Special(string w) => w is Unk or Eos;
        HashSet<string> keep;
        if (maxSize == 0 && minCount == 1) keep = new HashSet<string>(order, StringComparer.Ordinal);
        else
        {
            var rank = order.Select((w, i) => (w, i))
                .Where(x => !Special(x.w) && counts[x.w] >= minCount)
                .OrderByDescending(x => counts[x.w]).ThenBy(x => x.i)
                .Select(x => x.w);
            int room = maxSize == 0 ? int.MaxValue : maxSize - 2; // <unk> and <eos> always have a place
            keep = new HashSet<string>(rank.Take(room), StringComparer.Ordinal) { Unk, Eos };
        }
        var words = order.Where(keep.Contains).ToList();
        if (!words.Contains(Unk)) words.Add(Unk);
        return new Vocabulary(words);
    }

    /// <summary>Token ids (int64) of <paramref name="tokens"/>; unknown words become <see cref="UnkId"/>.</summary>
    public long[] Encode(IReadOnlyCollection<string> tokens)
    {
        var ids = new long[tokens.Count];
        int i = 0;
        foreach (var t in tokens) ids[i++] = IdOf(t);
        return ids;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Count} words";
}

/// <summary>
/// A word-level corpus: a vocabulary and three 1-D int64 token streams (train, valid, test), every line
/// ending in <see cref="Vocabulary.Eos"/>. Owns its tensors (detached from any dispose scope).
/// </summary>
public sealed class TextCorpus : IDisposable
{
    private bool _disposed;

    /// <summary>Takes ownership of the three token tensors after checking them.</summary>
    public TextCorpus(string name, Vocabulary vocab, Tensor train, Tensor valid, Tensor test)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        foreach (var (split, t) in new[] { ("train", train), ("valid", valid), ("test", test) })
        {
            ArgumentNullException.ThrowIfNull(t, split);
            if (t.dtype != ScalarType.Int64 || t.dim() != 1)
                throw new ArgumentException($"{name}/{split}: token ids must be a 1-D int64 tensor, got {t.dtype} with {t.dim()} dimensions.", split);
        }
        Name = name;
        Vocab = vocab;
        Train = train.DetachFromDisposeScope();
        Valid = valid.DetachFromDisposeScope();
        Test = test.DetachFromDisposeScope();
    }

    /// <summary>e.g. "ptb" or "text:/usr/share/games/fortunes".</summary>
    public string Name { get; }
    public Vocabulary Vocab { get; }
    /// <summary>Training token ids, int64 [N].</summary>
    public Tensor Train { get; }
    /// <summary>Validation token ids, int64 [N].</summary>
    public Tensor Valid { get; }
    /// <summary>Test token ids, int64 [N].</summary>
    public Tensor Test { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Train.Dispose();
        Valid.Dispose();
        Test.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Vocab.Count} words; tokens train {Train.shape[0]}, valid {Valid.shape[0]}, test {Test.shape[0]}";
}

/// <summary>
/// Reads word-level corpora: the Penn Treebank layout (three files, one sentence per line) and plain text (a
/// file, or a folder of text files such as Debian's fortunes), split into train / valid / test by lines.
/// Lines are split on whitespace and end in &lt;eos&gt;; blank lines are skipped. Anything missing or empty
/// throws, naming the file and the problem.
/// </summary>
public static class CorpusReader
{
    /// <summary>The three Penn Treebank files (Mikolov's word-level version, as the PyTorch examples ship it).</summary>
    public static IReadOnlyList<string> PtbFiles { get; } = ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"];

    /// <summary>The same files as the AWD-LSTM / AdaBelief scripts name them (data/penn/train.txt, ...).</summary>
    public static IReadOnlyList<string> PennFiles { get; } = ["train.txt", "valid.txt", "test.txt"];

    /// <summary>Where Debian's <c>fortunes</c> package installs its English text (the default of task "text").</summary>
    public const string DefaultTextPath = "/usr/share/games/fortunes";

    /// <summary>The default train / valid / test fractions of a plain text's lines.</summary>
    public static IReadOnlyList<double> DefaultSplit { get; } = [0.8, 0.1, 0.1];

    private static string PtbLayout(string dir) =>
        $"Expected {string.Join(", ", PtbFiles)} (Mikolov's word-level Penn Treebank: one sentence per line, words separated " +
        $"by spaces, rare words already <unk>) directly in '{dir}'; {string.Join(", ", PennFiles)} (the data/penn layout) are accepted too.";

    /// <summary>Whether <paramref name="dir"/> holds the three Penn Treebank files in either naming.</summary>
    public static bool HasPtbFiles(string dir) =>
        PtbFiles.All(f => File.Exists(Path.Combine(dir, f))) || PennFiles.All(f => File.Exists(Path.Combine(dir, f)));

    /// <summary>
    /// Loads the Penn Treebank from <paramref name="dir"/>: ptb.train.txt, ptb.valid.txt, ptb.test.txt (or
    /// train.txt, valid.txt, test.txt). The vocabulary is every word of the training file plus &lt;eos&gt;
    /// (the files already contain &lt;unk&gt;: about 10 000 words).
    /// </summary>
    /// <exception cref="FileNotFoundException">The folder or a file is missing; the message gives the layout.</exception>
    /// <exception cref="InvalidDataException">A file has no words.</exception>
    public static TextCorpus LoadPtb(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Penn Treebank folder '{dir}' does not exist. {PtbLayout(dir)}");
        var names = PtbFiles.All(f => File.Exists(Path.Combine(dir, f))) || !PennFiles.All(f => File.Exists(Path.Combine(dir, f))) ? PtbFiles : PennFiles;
        var missing = names.Where(f => !File.Exists(Path.Combine(dir, f))).ToArray();
        if (missing.Length > 0)
            throw new FileNotFoundException($"Penn Treebank files not found: '{dir}' lacks {string.Join(", ", missing)}. {PtbLayout(dir)}", Path.Combine(dir, missing[0]));

        var splits = names.Select(f =>
        {
            var path = Path.Combine(dir, f);
            var tokens = Tokens(ReadLines(path, plainText: false));
            if (tokens.Count == 0) throw new InvalidDataException($"'{path}': no words (every line is blank); a Penn Treebank split needs at least one sentence.");
            return tokens;
        }).ToArray();
        var vocab = Vocabulary.Build(splits[0]);
        return Encode("ptb", vocab, splits);
    }

    /// <summary>
    /// Loads plain text: a file, or a folder whose text files are read in sorted name order (see
    /// <see cref="TextFiles"/>). Lines holding only <c>%</c> (the record separator of fortune files) are
    /// skipped like blank lines, and control characters (backspace overstriking) are removed. The non-blank
    /// lines are split in order, without shuffling: the first <paramref name="fractions"/>[0] of them train,
    /// the next [1] valid, the next [2] test. The vocabulary comes from the training lines.
    /// </summary>
    /// <param name="path">A plain-text file, or a folder of text files.</param>
    /// <param name="fractions">Three positive fractions summing to at most 1 (default 0.8 / 0.1 / 0.1).</param>
    /// <param name="maxVocab">Largest vocabulary, &lt;unk&gt; and &lt;eos&gt; included (0 = every training word).</param>
    /// <param name="minCount">Words seen fewer times in the training lines become &lt;unk&gt;.</param>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="InvalidDataException">No text files, no words, or a split without words.</exception>
    public static TextCorpus LoadText(string path, IReadOnlyList<double>? fractions = null, int maxVocab = 0, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(path);
        var f = fractions ?? DefaultSplit;
        CheckFractions(f);
        IReadOnlyList<string> files;
        if (Directory.Exists(path))
        {
            files = TextFiles(path);
            if (files.Count == 0)
                throw new InvalidDataException($"'{path}': no text files in this folder (skipped: .dat files, binary files, symbolic links to files already read, subfolders).");
        }
        else if (File.Exists(path)) files = [path];
        else throw new FileNotFoundException(
            $"Text corpus not found: '{path}' is neither a file nor a folder. Give a plain-text file, or a folder of text files " +
            $"(read in sorted name order; e.g. Debian's fortunes package installs one in {DefaultTextPath}: apt-get install fortunes).", path);

        var lines = files.SelectMany(file => ReadLines(file, plainText: true)).ToList();
        if (lines.Count == 0)
            throw new InvalidDataException($"'{path}': empty corpus: no words in {(files.Count == 1 ? "the file" : $"its {files.Count} text files")}.");

        int n = lines.Count;
        int b1 = Bound(n, f[0]), b2 = Bound(n, f[0] + f[1]), b3 = Bound(n, f[0] + f[1] + f[2]);
        var ranges = new[] { ("train", 0, b1), ("valid", b1, b2), ("test", b2, b3) };
        foreach (var (split, from, to) in ranges)
            if (to <= from)
                throw new InvalidDataException(
                    $"'{path}': the {split} split has no words: {n} non-blank lines split {Fractions(f)} leave it {to - from} lines. Use a longer text or other split fractions.");
        var splits = ranges.Select(r => Tokens(lines.Skip(r.Item2).Take(r.Item3 - r.Item2))).ToArray();
        var vocab = Vocabulary.Build(splits[0], maxVocab, minCount);
        return Encode($"text:{path}", vocab, splits);

        static int Bound(int n, double fraction) => Math.Min(n, (int)Math.Round(n * fraction, MidpointRounding.AwayFromZero));
    }

    /// <summary>
    /// The files of a folder that <see cref="LoadText"/> reads, in ordinal name order: regular text files,
    /// skipping names starting with '.', <c>.dat</c> files (fortune's binary indexes), files with a NUL byte in
    /// their first 8 KiB (binary), and symbolic links to a file already listed (fortunes' <c>.u8</c> links).
    /// Subfolders are not read.
    /// </summary>
    public static IReadOnlyList<string> TextFiles(string dir)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var file in Directory.GetFiles(dir).OrderBy(Path.GetFileName, StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith('.') || name.EndsWith(".dat", StringComparison.OrdinalIgnoreCase)) continue;
            var real = new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(file);
            if (!File.Exists(real) || !seen.Add(real) || LooksBinary(real)) continue;
            files.Add(file);
        }
        return files;
    }

    private static bool LooksBinary(string path)
    {
        Span<byte> head = stackalloc byte[8192];
        using var s = File.OpenRead(path);
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return head[..n].Contains((byte)0);
    }

    /// <summary>
    /// The words of every non-blank line of a file, in order (without &lt;eos&gt;). The file must be UTF-8 text: a
    /// byte sequence that is not UTF-8, or a NUL byte (a binary file), throws <see cref="InvalidDataException"/>
    /// naming the file, the line and the byte offset, never a silent U+FFFD.
    /// </summary>
    public static IEnumerable<string[]> ReadLines(string path, bool plainText)
    {
        CheckUtf8Text(path);
        foreach (var raw in File.ReadLines(path, Encoding.UTF8))
        {
            var line = plainText ? StripControls(raw) : raw;
            if (plainText && line.Trim() is "%" or "%%") continue;
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0) yield return words;
        }
    }

    /// <summary>Checks a whole file is UTF-8 without NUL bytes, streaming (memory independent of the file size).</summary>
    /// <exception cref="InvalidDataException">Naming the file, the 1-based line and the 0-based byte offset of the first bad byte.</exception>
    public static void CheckUtf8Text(string path)
    {
        using var file = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        var chars = new char[buffer.Length];
        int carry = 0;               // bytes of a sequence cut by the end of the previous chunk
        long offset = 0, line = 1;   // of buffer[0]
        while (true)
        {
            int n = carry + file.Read(buffer, carry, buffer.Length - carry);
            bool final = n == carry;
            if (n == 0) return;
            var span = buffer.AsSpan(0, n);
            int nul = span.IndexOf((byte)0);
            var status = System.Text.Unicode.Utf8.ToUtf16(nul >= 0 ? span[..nul] : span, chars, out int read, out _, replaceInvalidSequences: false, isFinalBlock: final || nul >= 0);
            if (status == System.Buffers.OperationStatus.InvalidData || (nul >= 0 && status == System.Buffers.OperationStatus.Done))
            {
                int at = status == System.Buffers.OperationStatus.InvalidData ? read : nul;
                long where = line + span[..at].Count((byte)'\n');
                throw new InvalidDataException(status == System.Buffers.OperationStatus.InvalidData
                    ? $"'{path}': not UTF-8 text: invalid byte 0x{span[at]:X2} at line {where} (byte offset {offset + at}). Give a UTF-8 text file (convert with iconv, e.g. iconv -f latin1 -t utf-8)."
                    : $"'{path}': a NUL byte at line {where} (byte offset {offset + at}): this is a binary file, not text.");
            }
            if (final && status == System.Buffers.OperationStatus.NeedMoreData)
                throw new InvalidDataException($"'{path}': not UTF-8 text: the file ends inside a multi-byte character (byte offset {offset + read}).");
            line += span[..read].Count((byte)'\n');
            offset += read;
            carry = n - read;
            span[read..].CopyTo(buffer);
            if (final) return;
        }
    }

    private static string StripControls(string line)
    {
        if (!line.Any(c => char.IsControl(c) && c != '\t')) return line;
        var sb = new StringBuilder(line.Length);
        foreach (var c in line)
            if (!char.IsControl(c) || c == '\t') sb.Append(c);
        return sb.ToString();
    }

    private static List<string> Tokens(IEnumerable<string[]> lines)
    {
        var tokens = new List<string>();
        foreach (var words in lines)
        {
            tokens.AddRange(words);
            tokens.Add(Vocabulary.Eos);
        }
        return tokens;
    }

    private static TextCorpus Encode(string name, Vocabulary vocab, List<string>[] splits)
    {
        using var scope = NewDisposeScope();
        var t = splits.Select(s => tensor(vocab.Encode(s), [s.Count], ScalarType.Int64)).ToArray();
        return new TextCorpus(name, vocab, t[0], t[1], t[2]); // detaches the tensors from the scope
    }

    private static string Fractions(IReadOnlyList<double> f) => string.Join("/", f.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Checks split fractions: three positive numbers summing to at most 1.</summary>
    /// <exception cref="ArgumentException">Otherwise, with the values.</exception>
    public static void CheckFractions(IReadOnlyList<double> f)
    {
        if (f.Count != 3 || f.Any(x => !(x > 0)) || f.Sum() > 1 + 1e-9)
            throw new ArgumentException($"split fractions {Fractions(f)}: need three positive fractions (train, valid, test) summing to at most 1, e.g. 0.8/0.1/0.1.", "split_fractions");
    }
}
