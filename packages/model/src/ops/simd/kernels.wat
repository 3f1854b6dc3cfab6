;; Element-wise kernels for the wasm backend, run in place on the backend's own heap (its memory is imported).
;; Assembled by tools/kernels/assemble.mjs into kernels-wasm.ts (base64); a test keeps the two in sync.
;; Addresses are byte offsets of float32 tensors in that heap; 128-bit SIMD, four floats per instruction.
(module
  (import "env" "memory" (memory 1))

  ;; u + u*erf(u) = u + |u|*erf(|u|), the GELU of the Swin MLP with its 1/sqrt(2) folded into the weights around it.
  ;; erf(a) = a*P(a^2)/Q(a^2) with a = min(|u|, 3.92) (float32 erf is 1 beyond), P and Q of degree 5 fitted by
  ;; tools/kernels/fit_erf.py: |error| <= 3.8e-7 in float32 against scipy's erf. Eight floats per step: two vectors
  ;; whose steps are interleaved, two independent dependency chains that keep the CPU busy (20% faster than one; a
  ;; function per vector is slower, V8 does not inline it).
  ;; dst[i] = u + u*erf(u) for u = src[i], i < n, n >= 8. The last step is taken at n-8, overlapping the one before
  ;; when n is not a multiple of 8 (src and dst are distinct tensors, so recomputing an element is harmless).
  (func (export "gelu") (param $src i32) (param $dst i32) (param $n i32)
    (local $off i32) (local $end i32) (local $at i32)
    (local $u0 v128) (local $a0 v128) (local $t0 v128) (local $p0 v128) (local $q0 v128)
    (local $u1 v128) (local $a1 v128) (local $t1 v128) (local $p1 v128) (local $q1 v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $at (select (local.get $off) (i32.sub (local.get $end) (i32.const 32))
          (i32.le_u (i32.add (local.get $off) (i32.const 32)) (local.get $end))))
        (local.set $u0 (v128.load (i32.add (local.get $src) (local.get $at))))
        (local.set $u1 (v128.load offset=16 (i32.add (local.get $src) (local.get $at))))
        (local.set $a0 (f32x4.min (f32x4.abs (local.get $u0)) (v128.const f32x4 3.92 3.92 3.92 3.92)))
        (local.set $a1 (f32x4.min (f32x4.abs (local.get $u1)) (v128.const f32x4 3.92 3.92 3.92 3.92)))
        (local.set $t0 (f32x4.mul (local.get $a0) (local.get $a0)))
        (local.set $t1 (f32x4.mul (local.get $a1) (local.get $a1)))
        ;; P, Horner from the highest degree
        (local.set $p0 (v128.const f32x4 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06))
        (local.set $p1 (v128.const f32x4 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.05306045338511467 0.05306045338511467 0.05306045338511467 0.05306045338511467)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.05306045338511467 0.05306045338511467 0.05306045338511467 0.05306045338511467)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.19276432693004608 0.19276432693004608 0.19276432693004608 0.19276432693004608)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.19276432693004608 0.19276432693004608 0.19276432693004608 0.19276432693004608)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 1.128378987312317 1.128378987312317 1.128378987312317 1.128378987312317)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 1.128378987312317 1.128378987312317 1.128378987312317 1.128378987312317)))
        ;; Q
        (local.set $q0 (v128.const f32x4 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05))
        (local.set $q1 (v128.const f32x4 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.015172289684414864 0.015172289684414864 0.015172289684414864 0.015172289684414864)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.015172289684414864 0.015172289684414864 0.015172289684414864 0.015172289684414864)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.11508467048406601 0.11508467048406601 0.11508467048406601 0.11508467048406601)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.11508467048406601 0.11508467048406601 0.11508467048406601 0.11508467048406601)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.5041645765304565 0.5041645765304565 0.5041645765304565 0.5041645765304565)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.5041645765304565 0.5041645765304565 0.5041645765304565 0.5041645765304565)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 1 1 1 1)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 1 1 1 1)))
        ;; u + |u| * (a*P/Q)
        (v128.store (i32.add (local.get $dst) (local.get $at))
          (f32x4.add (local.get $u0) (f32x4.mul (f32x4.abs (local.get $u0))
            (f32x4.div (f32x4.mul (local.get $a0) (local.get $p0)) (local.get $q0)))))
        (v128.store offset=16 (i32.add (local.get $dst) (local.get $at))
          (f32x4.add (local.get $u1) (f32x4.mul (f32x4.abs (local.get $u1))
            (f32x4.div (f32x4.mul (local.get $a1) (local.get $p1)) (local.get $q1)))))
        (local.set $off (i32.add (local.get $off) (i32.const 32)))
        (br $next))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; LayerNorm without its affine part over rows of `cols` floats (cols a multiple of 4, >= 4):
  ;; dst = (x - mean) / sqrt(var + eps), biased variance, both from the row in two passes.
  (func (export "normalize") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $eps f32)
    (local $end i32) (local $p i32) (local $o i32) (local $n f32)
    (local $acc v128) (local $m v128) (local $d v128) (local $r v128)
    (local.set $n (f32.convert_i32_u (local.get $cols)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.eqz (local.get $rows)))
        (local.set $end (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
        ;; mean
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $src))
        (loop $sum
          (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $sum (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $m (f32x4.splat (f32.div (call $hsum (local.get $acc)) (local.get $n))))
        ;; variance around the mean
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $src))
        (loop $var
          (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $var (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $r (f32x4.splat (f32.div (f32.const 1)
          (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (local.get $n)) (local.get $eps))))))
        ;; output
        (local.set $p (local.get $src))
        (local.set $o (local.get $dst))
        (loop $out
          (v128.store (local.get $o) (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $m)) (local.get $r)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $out (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $src (local.get $end))
        (local.set $dst (local.get $o))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)
