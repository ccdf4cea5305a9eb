# want: 7: Unsupported argument: An argument named "checksum" is not expected here
experiment "vocab" {
  task "train" {
    command = "local/train.sh"
    artifact {
      source   = "https://example.com/code.tar.gz"
      checksum = "sha256:0123"
    }
  }
}
