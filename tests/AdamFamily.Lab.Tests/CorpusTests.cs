using AdamFamily.Lab.Data;

namespace AdamFamily.Lab.Tests;

public class CorpusTests
{
    private static long[] Ids(TorchSharp.torch.Tensor t) => t.data<long>().ToArray();
    private static string[] Words(TextCorpus c, TorchSharp.torch.Tensor t) => Ids(t).Select(i => c.Vocab.Words[(int)i]).ToArray();

    private static void WritePtb(TempDir dir, string train, string valid, string test)
    {
        File.WriteAllText(dir.File("ptb.train.txt"), train);
        File.WriteAllText(dir.File("ptb.valid.txt"), valid);
        File.WriteAllText(dir.File("ptb.test.txt"), test);
    }

    [Fact]
    public void Ptb_RoundTrip_EndsEverySentenceInEos_AndMapsUnknownWordsToUnk()
    {
        using var dir = new TempDir();
        WritePtb(dir, " the cat sat \n\n a <unk> dog sat\n", "the dog ran\n", "\n the   zebra\tsat\n");
        using var c = CorpusReader.LoadPtb(dir.Path);

        Assert.Equal(new[] { "the", "cat", "sat", "<eos>", "a", "<unk>", "dog" }, c.Vocab.Words); // first appearance; <unk> from the file
        Assert.Equal(new[] { "the", "cat", "sat", "<eos>", "a", "<unk>", "dog", "sat", "<eos>" }, Words(c, c.Train)); // the blank line is skipped
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 6, 2, 3 }, Ids(c.Train));
        Assert.Equal(new[] { "the", "dog", "<unk>", "<eos>" }, Words(c, c.Valid)); // "ran" is not a training word
        Assert.Equal(new[] { "the", "<unk>", "sat", "<eos>" }, Words(c, c.Test));
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, c.Train.dtype);
        Assert.Equal(5, c.Vocab.UnkId);
        Assert.Equal(3, c.Vocab.EosId);
    }

    [Fact]
    public void Ptb_AcceptsThePennLayoutNames()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("train.txt"), "a b\n");
        File.WriteAllText(dir.File("valid.txt"), "b a\n");
        File.WriteAllText(dir.File("test.txt"), "a\n");
        using var c = CorpusReader.LoadPtb(dir.Path);
        Assert.Equal(new[] { "a", "b", "<eos>", "<unk>" }, c.Vocab.Words); // <unk> appended: the text never uses it
        Assert.Equal(3, c.Valid.shape[0]);
    }

    [Fact]
    public void Ptb_MissingFile_SaysWhereAndInWhichLayout()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("ptb.train.txt"), "a b\n");
        File.WriteAllText(dir.File("ptb.test.txt"), "a b\n");
        var e = Assert.Throws<FileNotFoundException>(() => CorpusReader.LoadPtb(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("lacks ptb.valid.txt", e.Message);
        Assert.Contains("ptb.train.txt, ptb.valid.txt, ptb.test.txt", e.Message);
        Assert.Contains("one sentence per line", e.Message);

        var missing = Path.Combine(dir.Path, "nowhere");
        var d = Assert.ThrowsAny<IOException>(() => CorpusReader.LoadPtb(missing));
        Assert.Contains(missing, d.Message);
        Assert.Contains("ptb.train.txt", d.Message);
    }

    [Fact]
    public void Ptb_AnEmptySplit_IsAnError_NamingTheFile()
    {
        using var dir = new TempDir();
        WritePtb(dir, "a b\n", "\n  \n", "a\n");
        var e = Assert.Throws<InvalidDataException>(() => CorpusReader.LoadPtb(dir.Path));
        Assert.Contains("ptb.valid.txt", e.Message);
        Assert.Contains("no words", e.Message);
    }

    [Fact]
    public void PlainText_IsSplitByLineFractions_InOrder_WithoutShuffling()
    {
        using var dir = new TempDir();
        var path = dir.File("book.txt");
        // 20 non-blank lines "w0" .. "w19", blank lines between some of them.
        File.WriteAllLines(path, Enumerable.Range(0, 20).SelectMany(i => i % 3 == 0 ? new[] { $"w{i} x", "" } : new[] { $"w{i} x" }));
        using var c = CorpusReader.LoadText(path, new[] { 0.8, 0.1, 0.1 });
        Assert.Equal(16 * 3, c.Train.shape[0]); // 16 lines × (word, x, <eos>)
        Assert.Equal(new[] { "<unk>", "x", "<eos>", "<unk>", "x", "<eos>" }, Words(c, c.Valid)); // w16, w17 are not training words
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"w{i}").ToArray(), Words(c, c.Train).Where(w => w.StartsWith('w')).ToArray());

        using var again = CorpusReader.LoadText(path, new[] { 0.8, 0.1, 0.1 });
        Assert.Equal(Ids(c.Test), Ids(again.Test));

        using var half = CorpusReader.LoadText(path, new[] { 0.5, 0.25, 0.25 });
        Assert.Equal(10 * 3, half.Train.shape[0]);
        Assert.Equal(5 * 3, half.Valid.shape[0]);
        Assert.Equal(5 * 3, half.Test.shape[0]);
    }

    [Fact]
    public void PlainText_MaxVocabAndMinCount_SendRareWordsToUnk()
    {
        using var dir = new TempDir();
        var path = dir.File("t.txt");
        // a ×6, b ×4, c ×2, d ×1 in the training lines (8 of 10 lines); then the valid / test lines.
        File.WriteAllLines(path, new[] { "a b", "a b", "a b", "a b", "a c", "a c", "d", "%", "x", "a", "b" });
        using var top = CorpusReader.LoadText(path, maxVocab: 4);
        Assert.Equal(new[] { "a", "b", "<eos>", "<unk>" }, top.Vocab.Words); // the two most frequent words + <eos> + <unk>
        Assert.DoesNotContain("%", top.Vocab.Words); // a fortune separator line is not text
        using var min2 = CorpusReader.LoadText(path, minCount: 2);
        Assert.Equal(new[] { "a", "b", "<eos>", "c", "<unk>" }, min2.Vocab.Words);
        using var all = CorpusReader.LoadText(path);
        Assert.Contains("d", all.Vocab.Words);
    }

    [Fact]
    public void PlainTextFolder_ReadsTextFilesInNameOrder_SkippingDatBinaryAndLinkedDuplicates()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("b"), "two\n%\nthree\n");
        File.WriteAllText(dir.File("a"), "one\n%\n");
        File.WriteAllBytes(dir.File("a.dat"), new byte[] { 0, 0, 0, 2, 1, 2, 3 });
        File.WriteAllBytes(dir.File("blob"), new byte[] { (byte)'h', 0, (byte)'i' });
        File.CreateSymbolicLink(dir.File("a.u8"), dir.File("a"));
        File.WriteAllText(dir.File("c"), "four\nfive\nsix\nseven\neight\nnine\nten\n");
        Assert.Equal(new[] { "a", "b", "c" }, CorpusReader.TextFiles(dir.Path).Select(Path.GetFileName));

        using var c = CorpusReader.LoadText(dir.Path);
        // ten lines: 8 train, 1 valid, 1 test
        Assert.Equal(new[] { "one", "<eos>", "two", "<eos>", "three", "<eos>", "four", "<eos>" }, Words(c, c.Train).Take(8));
        Assert.Equal(16, c.Train.shape[0]);
        Assert.Equal(2, c.Test.shape[0]);
    }

    [Fact]
    public void PlainText_Errors_NameThePathAndTheProblem()
    {
        using var dir = new TempDir();
        var missing = dir.File("nope.txt");
        var nf = Assert.Throws<FileNotFoundException>(() => CorpusReader.LoadText(missing));
        Assert.Contains(missing, nf.Message);
        Assert.Contains("folder of text files", nf.Message);

        var blank = dir.File("blank.txt");
        File.WriteAllText(blank, "\n   \n%\n");
        var empty = Assert.Throws<InvalidDataException>(() => CorpusReader.LoadText(blank));
        Assert.Contains(blank, empty.Message);
        Assert.Contains("empty corpus", empty.Message);

        var shortText = dir.File("short.txt");
        File.WriteAllText(shortText, "one line\ntwo\n"); // 0.8 / 0.1 / 0.1 of 2 lines: 2 / 0 / 0
        var split = Assert.Throws<InvalidDataException>(() => CorpusReader.LoadText(shortText));
        Assert.Contains(shortText, split.Message);
        Assert.Contains("valid split has no words", split.Message);

        var emptyDir = Path.Combine(dir.Path, "empty");
        Directory.CreateDirectory(emptyDir);
        File.WriteAllBytes(Path.Combine(emptyDir, "x.dat"), new byte[] { 1 });
        Assert.Contains("no text files", Assert.Throws<InvalidDataException>(() => CorpusReader.LoadText(emptyDir)).Message);

        Assert.Contains("0.9/0.2/0.1", Assert.Throws<ArgumentException>(() => CorpusReader.LoadText(shortText, new[] { 0.9, 0.2, 0.1 })).Message);
    }
}
