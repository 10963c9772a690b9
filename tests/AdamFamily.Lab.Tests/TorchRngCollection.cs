namespace AdamFamily.Lab.Tests;

/// <summary>
/// Test classes that seed or draw from torch's process-wide generator. xunit runs different classes in
/// parallel; without this collection one class's manual_seed or rand could land between another's
/// manual_seed and model construction and make "same seed, same weights" flaky.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchRngCollection
{
    public const string Name = "torch global RNG";
}
