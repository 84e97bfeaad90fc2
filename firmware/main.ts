// Entry of the firmware image (dist/espruino/firmware.{small,full}.js). A stub until the sensor
// application lands: it only proves the image boots. Espruino calls the global `onInit` after a
// save() and at every power-on, so it must live on `global`, not inside the bundle's closure.
import { VERSION } from './version';

declare global {
  var onInit: () => void;
}

global.onInit = function onInit() {
  print('sparrow ' + VERSION + ' ' + __PROFILE__);
};
