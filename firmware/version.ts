/** Firmware version, reported in telemetry and checked by flash.sh. Kept equal to package.json's by a test. */
export const VERSION = '0.1.0';
