# want: 3: Unsupported block type: Blocks of type "resource" are not expected here. Did you mean "resources"?
experiment "typo" {
  resource {
    cpu = 1
  }
  task "train" {
    command = "python3"
  }
}
