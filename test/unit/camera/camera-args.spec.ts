import { describe, expect, it } from 'vitest';
import { cameraSpecFromFlags } from '../../../src/camera/create-frame-source.ts';
import { ffmpegArgs } from '../../../src/camera/ffmpeg-source.ts';
import { rpicamArgs } from '../../../src/camera/rpicam-source.ts';
import { isUsageError } from '../../../src/lib/errors.ts';

describe('camera command lines (argument arrays, no shell)', () => {
  it('rpicam-vid: raw yuv420 forever to stdout, no preview, flushed', () => {
    expect(rpicamArgs({ width: 640, height: 480, fps: 30 })).toEqual([
      '--codec', 'yuv420', '-t', '0', '--width', '640', '--height', '480', '--framerate', '30', '-n', '--flush', '-o', '-',
    ]);
    expect(rpicamArgs({ width: 640, height: 480, fps: 30, cameraIndex: 1 })).toContain('--camera');
  });

  it('ffmpeg: V4L2 devices are opened with size and rate; files play at their pace, optionally looped', () => {
    const dev = ffmpegArgs({ input: '/dev/video0', width: 640, height: 480, fps: 15 });
    expect(dev.join(' ')).toContain('-f v4l2 -framerate 15 -video_size 640x480 -i /dev/video0');
    const file = ffmpegArgs({ input: 'a b; rm -rf x.mp4', width: 320, height: 240, fps: 10, loop: true });
    expect(file).toContain('a b; rm -rf x.mp4'); // one argument, never interpreted
    expect(file.join(' ')).toContain('-re -stream_loop -1 -i');
    expect(file.join(' ')).toContain('scale=320:240:out_range=full,fps=10 -pix_fmt yuv420p -f rawvideo pipe:1');
    expect(ffmpegArgs({ input: 'x.mp4', width: 320, height: 240, fps: 10, fast: true })).not.toContain('-re');
  });

  it('flags → CameraSpec with defaults; bad values name the flag', () => {
    expect(cameraSpecFromFlags({})).toMatchObject({ backend: 'rpicam', width: 640, height: 480, fps: 15, strideAlign: 64 });
    for (const [flags, msg] of [
      [{ camera: 'usb' }, /--camera must be/],
      [{ width: 'abc' }, /--width must be an integer/],
      [{ fps: '0' }, /--fps/],
      [{ camera: 'ffmpeg' }, /needs --device/],
    ] as const) {
      let err: unknown;
      try {
        cameraSpecFromFlags(flags);
      } catch (e: unknown) {
        err = e;
      }
      expect(isUsageError(err)).toBe(true);
      expect(String(err)).toMatch(msg);
    }
  });
});
