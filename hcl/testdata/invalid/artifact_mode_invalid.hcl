# want: 7: Invalid value for artifact mode
experiment "vocab" {
  task "train" {
    command = "local/train.sh"
    artifact {
      source = "https://example.com/code.tar.gz"
      mode   = "folder"
    }
  }
}
