# want: 3: Invalid value for placement: placement must be one of "pack", "spread", "strict_pack", "strict_spread"; got "packed" (did you mean "pack"?)
experiment "placed" {
  placement = "packed"
  task "train" {
    command = "python3"
  }
}
