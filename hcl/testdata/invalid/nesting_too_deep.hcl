# want: 3: Nested too deeply: Brackets, blocks, strings and operators nest more than 100 levels
experiment "deep" {
  num_samples = (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
  task "train" {
    command = "sh"
  }
}
